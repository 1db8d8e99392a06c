package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.queue.QueueOperationException;

/**
 * The recvmmsg receive path, where io_uring is unavailable or turned off: the queue's thread
 * receives a batch of datagrams into the slots' pages with one call ({@link SlotMem}), refills the
 * slots from the pool, and when nothing waits sleeps in {@code poll} on the socket and the queue's
 * eventfd. The kernel writes into a page only during the call, so stop, swap and release need
 * nothing of the kernel.
 */
final class RecvmmsgReceive extends ReceiveBase {

    private final Netmem[] batch = new Netmem[SlotMem.MAX_SLOTS];
    private MemorySegment pollfds;
    private int eventfd;

    RecvmmsgReceive(UringQueue queue, int socket, UringSettings settings, Arena arena, Sys sys, Delivery delivery) {
        super(queue, socket, settings, arena, sys, delivery);
    }

    @Override
    public void setUp(int eventfd) {
        this.eventfd = eventfd;
        pollfds = arena.allocate(2L * Net.POLLFD, 8); // the eventfd, then the socket
        pollfds.set(JAVA_INT, Net.POLL_FD, eventfd);
        pollfds.set(JAVA_SHORT, Net.POLL_EVENTS, (short) Sys.POLLIN);
        pollfds.set(JAVA_SHORT, Net.POLLFD + Net.POLL_EVENTS, (short) Sys.POLLIN);
    }

    @Override
    public UringMem allocate(int queue, PagePool pool) {
        return new SlotMem(queue, pool, ringSize);
    }

    /** On the caller's thread: every slot gets a page; nothing of the queue's thread is touched. */
    @Override
    public void fill(UringMem mem) throws QueueOperationException {
        SlotMem m = (SlotMem) mem;
        Netmem[] pages = new Netmem[m.slots];
        int n = Delivery.takeFreshPages(m, pages, m.slots);
        for (int i = 0; i < n; i++) {
            m.slot(i, pages[i]);
        }
        m.filled = n;
        if (m.filled < m.slots) {
            throw new QueueOperationException("queue " + id + ": provider '" + m.pool.info().provider() + "' gave "
                    + m.filled + " of " + m.slots + " RX buffers");
        }
    }

    @Override
    public void stopping(UringMem old) {
        // The kernel writes only inside recvmmsg, which this thread is not in.
    }

    @Override
    public void starting(UringMem m) {
    }

    @Override
    public void swapping(UringMem old, UringMem m) {
    }

    /** The kernel writes only inside recvmmsg, which this thread is not in: nothing to let go of. */
    @Override
    public void letGo(UringMem m) {
    }

    @Override
    public void receive(UringMem mem, boolean failed, long waitNanos) {
        SlotMem m = (SlotMem) mem;
        if (m != null && !failed) {
            if (m.filled < m.slots) {
                refillSlots(m, 0);
            }
            if (m.filled > 0) {
                int n = sys.recvmmsg(socket, m.msgvec, m.filled);
                if (n > 0) {
                    counters.add(UringCounter.POLLS, 1);
                    for (int i = 0; i < n; i++) {
                        receivedSlot(m, i);
                    }
                    refillSlots(m, n);
                    counters.publish();
                    return;
                }
            }
        }
        // Nothing waiting: sleep until a datagram or a wake arrives.
        boolean listen = m != null && m.filled > 0 && !failed;
        long socketFd = Net.POLLFD + Net.POLL_FD;
        pollfds.set(JAVA_INT, socketFd, listen ? socket : -1);
        pollfds.set(JAVA_SHORT, Net.POLL_REVENTS, (short) 0);
        int millis = (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos));
        if (sys.poll(pollfds, 2, millis) > 0 && pollfds.get(JAVA_SHORT, Net.POLL_REVENTS) != 0) {
            sys.drain(eventfd);
        }
        counters.publish();
    }

    @Override
    public void tearDown() {
    }

    private void receivedSlot(SlotMem m, int i) {
        Netmem nm = m.slotPages[i];
        m.slotPages[i] = null;
        int len = m.received(i);
        if ((m.flags(i) & Sys.MSG_TRUNC) != 0 || len > m.pageSize) {
            counters.add(UringCounter.TRUNCATED, 1);
            len = Math.min(len, m.pageSize);
        }
        long name = (long) Net.SOCKADDR_IN * i;
        MemorySegment area = nm.area().memory();
        long page = (long) nm.index() << nm.area().pageShift();
        delivery.deliver(m, nm, area, page, 0, len, Net.address(m.names, name), Net.port(m.names, name));
        m.pool.recycleDirect(nm);
    }

    /**
     * Refills the slots after a recvmmsg took the first {@code taken}: the last filled slots move
     * into the holes, then the pool tops the slots up.
     */
    private void refillSlots(SlotMem m, int taken) {
        int hole = 0;
        int src = m.filled - 1;
        while (hole < taken && src >= taken) {
            m.slot(hole++, m.slotPages[src]);
            m.slotPages[src--] = null;
        }
        int filled = hole < taken ? hole : src + 1;
        int room = m.slots - filled;
        if (room > 0) {
            int n = delivery.takePages(m, batch, room);
            for (int j = 0; j < n; j++) {
                m.slot(filled++, batch[j]);
                batch[j] = null;
            }
            if (n < room) {
                counters.add(UringCounter.ALLOC_FAIL, 1);
            }
        }
        m.filled = filled;
    }
}

package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.queue.QueueOperationException;
import pagepool.kit.driver.Moderation;

/**
 * The io_uring receive path: each memory is a provided-buffer ring ({@link RingMem}), its group id
 * unique in the queue, and the queue receives with one multishot {@code recvmsg} armed on the
 * running memory's group. Each completion names a buffer: the datagram (with UDP GRO, each of
 * the datagrams it holds) is delivered, the page recycled into the pool, and the ring refilled
 * from the pool once per batch. A swap cancels the receive on the old group and arms one on the
 * new group in the same submission; datagrams arriving in between wait in the socket's buffer.
 * The ring also polls the queue's eventfd, so a wake ends the thread's wait in the kernel.
 */
final class IoUringReceive extends ReceiveBase implements IoUring.Completions {

    private static final System.Logger LOG = System.getLogger(IoUringReceive.class.getName());
    private static final long RECEIVE_END_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** The user data of a request: its kind in the low byte, the memory's group above. */
    private static final long RECV = 1;
    private static final long WAKE = 2;
    private static final long CANCEL = 3;
    /** Where a multishot recvmsg puts the payload: after io_uring_recvmsg_out and the address. */
    static final int PAYLOAD_AT = Net.RECVMSG_OUT + Net.SOCKADDR_IN;
    private static final int BATCH = 256;

    /** How long a wait lingers for a batch: fixed (coalesce.usecs) or adaptive (adaptive.rx). */
    private final Moderation moderation;
    /** Whether the socket coalesces a flow's datagrams into one buffer (UDP_GRO). */
    private final boolean gro;
    private final int payloadAt;
    private final Netmem[] batch = new Netmem[BATCH];
    /** Buffer groups of memories not yet freed; allocate runs on the control thread. */
    private final Set<Integer> groups = ConcurrentHashMap.newKeySet();
    private int nextGroup;
    // ---- the queue's thread's --------------------------------------------------------------------
    private IoUring ring;
    private MemorySegment msghdr;
    private int eventfd;
    /** Memories swapped out whose receive has not completed its last CQE yet. */
    private final List<RingMem> draining = new ArrayList<>();
    /** The memory the queue runs on, as the completions see it. */
    private RingMem current;

    IoUringReceive(UringQueue queue, int socket, UringSettings settings, boolean gro, Arena arena, Sys sys,
            Delivery delivery) {
        super(queue, socket, settings, arena, sys, delivery);
        this.moderation = settings.adaptiveRx() ? Moderation.adaptive() : Moderation.fixed(settings.coalesceMicros());
        this.gro = gro;
        this.payloadAt = PAYLOAD_AT + (gro ? Net.CMSG_SPACE_INT : 0);
    }

    @Override
    public void setUp(int eventfd) {
        this.eventfd = eventfd;
        ring = new IoUring(sys, arena, Math.max(64, Math.min(ringSize, 4096)));
        // The address's length is all the multishot receive reads from the msghdr; with GRO, the control's too.
        msghdr = arena.allocate(Net.MSGHDR, 8);
        msghdr.set(JAVA_INT, Net.MSG_NAMELEN, Net.SOCKADDR_IN);
        if (gro) {
            msghdr.set(JAVA_LONG, Net.MSG_CONTROLLEN, Net.CMSG_SPACE_INT);
        }
        ring.pollMultishot(eventfd, WAKE);
        ring.enter(0, 0);
    }

    /** A buffer group id no memory of this queue uses (1..65535). */
    private synchronized int newGroup() {
        while (true) {
            nextGroup = nextGroup % 65535 + 1;
            if (groups.add(nextGroup)) {
                return nextGroup;
            }
        }
    }

    @Override
    public UringMem allocate(int queue, PagePool pool) {
        int group = newGroup();
        try {
            return new RingMem(queue, group, pool, ringSize);
        } catch (RuntimeException | Error e) {
            groups.remove(group);
            throw e;
        }
    }

    /** On the caller's thread: the ring's descriptors are written; the kernel learns of it at start or swap. */
    @Override
    public void fill(UringMem mem) throws QueueOperationException {
        RingMem m = (RingMem) mem;
        Netmem[] pages = new Netmem[Math.min(ringSize, BATCH)];
        while (m.room() > 0) {
            int want = Math.min(m.room(), pages.length);
            int n = Delivery.takeFreshPages(m, pages, want);
            for (int i = 0; i < n; i++) {
                m.post(pages[i]);
            }
            if (n < want) {
                break;
            }
        }
        if (m.posted() < ringSize) {
            throw new QueueOperationException("queue " + id + ": provider '" + m.pool.info().provider() + "' gave "
                    + m.posted() + " of " + ringSize + " RX buffers");
        }
        m.ring.publish();
    }

    /** The kernel learns of the ring on the queue's thread, which alone may register ({@code SINGLE_ISSUER}). */
    private void register(RingMem m) {
        if (!m.registered) {
            ring.register(m.ring);
            m.registered = true;
        }
    }

    @Override
    public void stopping(UringMem mem) throws QueueOperationException {
        RingMem old = (RingMem) mem;
        if (!old.receiveEnded) {
            cancel(old);
            if (!awaitReceiveEnded(old)) {
                throw new QueueOperationException("queue " + id + ": the kernel did not end the receive on group "
                        + old.group + " within 2 s");
            }
        }
        current = null;
    }

    @Override
    public void starting(UringMem m) {
        register((RingMem) m);
        arm((RingMem) m);
        current = (RingMem) m;
    }

    @Override
    public void swapping(UringMem mem, UringMem next) {
        register((RingMem) next); // first: should it fail, the queue still receives on the old ring
        RingMem old = (RingMem) mem;
        if (!old.receiveEnded) {
            cancel(old);
            draining.add(old);
        }
        arm((RingMem) next);
        current = (RingMem) next;
    }

    @Override
    public void letGo(UringMem mem) {
        RingMem m = (RingMem) mem;
        if (ring != null) {
            if (!m.receiveEnded) {
                cancel(m);
                if (!awaitReceiveEnded(m)) {
                    LOG.log(Level.WARNING, "queue {0}: the receive on group {1} did not end within 2 s; its ring is"
                            + " unregistered regardless", id, m.group);
                }
            }
            draining.remove(m);
            if (m.registered) {
                m.registered = false;
                ring.unregister(m.ring);
            }
        }
        groups.remove(m.group);
    }

    @Override
    public void receive(UringMem mem, boolean failed, long waitNanos) {
        // With moderation: wake for a batch, or once its wait passed with anything to reap. Without,
        // while a receive is armed, a datagram ends the wait (as a wake does, through the eventfd's
        // poll): no timer. Otherwise the timeout is the retry, e.g. of a ring the pool could not refill.
        RingMem running = (RingMem) mem;
        int minWait = moderation.waitMicros();
        boolean armed = running != null && !running.receiveEnded;
        ring.enter(moderation.batch(), armed && minWait == 0 ? IoUring.NO_TIMEOUT : waitNanos, minWait);
        int reaped = ring.reap(this);
        moderation.woke(reaped);
        if (reaped > 0) {
            counters.add(UringCounter.POLLS, 1);
        }
        counters.set(UringCounter.MODERATION_USECS, moderation.waitMicros());
        long overflow = ring.cqOverflow();
        if (overflow != 0) {
            // A completion lost means a buffer the kernel filled and nobody will give back: said, not hidden.
            counters.set(UringCounter.CQ_OVERFLOW, overflow);
        }
        RingMem m = running;
        if (m != null) {
            refill(m);
            if (m.receiveEnded && m.posted() > 0 && !failed) {
                arm(m); // the group ran dry (ENOBUFS) or the kernel ended it: receive again
                counters.add(UringCounter.REARMS, 1);
            }
        }
        counters.publish();
    }

    @Override
    public void tearDown() {
        for (RingMem d : List.copyOf(draining)) {
            letGo(d);
            d.free();
        }
        if (ring != null) {
            ring.close();
            ring = null;
        }
    }

    private void arm(RingMem m) {
        ring.recvMsgMultishot(socket, msghdr, m.group, RECV | (long) m.group << 8);
        m.receiveEnded = false;
    }

    private void cancel(RingMem m) {
        ring.cancel(RECV | (long) m.group << 8, CANCEL | (long) m.group << 8);
    }

    /** Reaps completions (delivering what still arrives) until the memory's receive has ended. */
    private boolean awaitReceiveEnded(RingMem m) {
        long deadline = System.nanoTime() + RECEIVE_END_NANOS;
        while (!m.receiveEnded && System.nanoTime() - deadline < 0) {
            ring.enter(1, TimeUnit.MILLISECONDS.toNanos(10));
            ring.reap(this);
        }
        draining.remove(m);
        counters.publish();
        return m.receiveEnded;
    }

    @Override
    public void complete(long userData, int res, int flags) {
        long kind = userData & 0xff;
        if (kind == RECV) {
            RingMem m = memOf((int) (userData >>> 8));
            if (res >= 0 && (flags & IoUring.CQE_F_BUFFER) != 0) {
                received(m, m.take(flags >>> IoUring.CQE_BUFFER_SHIFT));
            }
            if ((flags & IoUring.CQE_F_MORE) == 0) {
                m.receiveEnded = true;
                if (res == -Sys.ENOBUFS) {
                    counters.add(UringCounter.NO_BUFFER, 1);
                } else if (res < 0 && res != -Sys.ECANCELED) {
                    counters.add(UringCounter.RECEIVE_ERRORS, 1);
                    LOG.log(Level.DEBUG, "queue {0}: receive ended: {1}", id, Sys.name(-res));
                }
            }
        } else if (kind == WAKE) {
            sys.drain(eventfd);
            if ((flags & IoUring.CQE_F_MORE) == 0) {
                ring.pollMultishot(eventfd, WAKE);
            }
        }
        // CANCEL: its result says nothing the receive's own last completion does not.
    }

    private RingMem memOf(int group) {
        if (current != null && current.group == group) {
            return current;
        }
        for (RingMem d : draining) {
            if (d.group == group) {
                return d;
            }
        }
        throw new IllegalStateException("a completion names buffer group " + group + ", which queue " + id
                + " does not have");
    }

    /**
     * One buffer of the ring: its {@code io_uring_recvmsg_out}, the sender's address, with GRO the
     * control message naming the segment size, then the payload: one datagram, or with GRO
     * several of one flow, each delivered on its own. The driver's reference to the page goes back
     * once all are delivered; a consumer that kept one holds a reference of its own.
     */
    private void received(RingMem m, Netmem nm) {
        MemorySegment area = nm.area().memory();
        long page = (long) nm.index() << nm.area().pageShift();
        int payload = area.get(JAVA_INT_UNALIGNED, page + Net.OUT_PAYLOADLEN);
        int outFlags = area.get(JAVA_INT_UNALIGNED, page + Net.OUT_FLAGS);
        int room = m.pageSize - payloadAt;
        if ((outFlags & Sys.MSG_TRUNC) != 0 || payload > room) {
            counters.add(UringCounter.TRUNCATED, 1);
            payload = Math.min(payload, room);
        }
        int address = Net.address(area, page + Net.RECVMSG_OUT);
        int port = Net.port(area, page + Net.RECVMSG_OUT);
        int segment = gro ? segmentSize(area, page) : 0;
        if (segment <= 0 || segment >= payload) {
            delivery.deliver(m, nm, area, page, payloadAt, payload, address, port);
        } else {
            counters.add(UringCounter.GRO_BUFFERS, 1);
            for (int off = 0; off < payload; off += segment) {
                delivery.deliver(m, nm, area, page, payloadAt + off, Math.min(segment, payload - off), address, port);
            }
        }
        m.pool.recycleDirect(nm);
    }

    /** The UDP_GRO control message's segment size, or 0 when the kernel sent none (one datagram). */
    private static int segmentSize(MemorySegment area, long page) {
        int controlLen = area.get(JAVA_INT_UNALIGNED, page + Net.OUT_CONTROLLEN);
        long cmsg = page + PAYLOAD_AT;
        if (controlLen < Net.CMSG_DATA + 4 || area.get(JAVA_INT_UNALIGNED, cmsg + Net.CMSG_LEVEL) != Sys.SOL_UDP
                || area.get(JAVA_INT_UNALIGNED, cmsg + Net.CMSG_TYPE) != Sys.UDP_GRO) {
            return 0;
        }
        return area.get(JAVA_INT_UNALIGNED, cmsg + Net.CMSG_DATA);
    }

    /** Posts pages of the pool to the ring until it is full or the pool runs dry, and publishes them once. */
    private void refill(RingMem m) {
        int room = m.room();
        int added = 0;
        while (room > 0) {
            int want = Math.min(room, BATCH);
            int n = delivery.takePages(m, batch, want);
            for (int i = 0; i < n; i++) {
                m.post(batch[i]);
                batch[i] = null;
            }
            added += n;
            room -= n;
            if (n < want) {
                counters.add(UringCounter.ALLOC_FAIL, 1);
                break;
            }
        }
        if (added > 0) {
            m.ring.publish();
        }
    }
}

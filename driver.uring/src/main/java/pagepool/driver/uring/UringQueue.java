package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.QueueId;
import pagepool.api.datagram.DatagramConsumer;
import pagepool.api.queue.QueueOperationException;

/**
 * One RX queue: a UDP socket and the thread that receives from it, its NAPI context. The thread
 * owns the queue's io_uring (set up {@code SINGLE_ISSUER}: only it may enter the ring or register
 * buffer rings) and its memory; every queue operation runs on it as a task between two batches of
 * completions, woken by an eventfd the ring polls.
 *
 * <p>With io_uring, each {@link UringMem} is a provided-buffer ring, its group id the memory's id,
 * and the queue receives with one multishot {@code recvmsg} armed on the running memory's group.
 * Each completion names a buffer: the datagram is delivered (or verified), the page recycled into
 * the pool, and the ring refilled from the pool once per batch. A swap cancels the receive on the
 * old group and arms one on the new group in the same submission; datagrams arriving in between
 * wait in the socket's buffer. Without io_uring, the thread {@code recvmmsg}s into the same pages.
 *
 * <p>The thread survives whatever it meets: the error is counted, the queue marked failed with the
 * reason (the engine restarts it), and the thread goes on.
 */
final class UringQueue implements Runnable, IoUring.Completions {

    private static final System.Logger LOG = System.getLogger(UringQueue.class.getName());
    private static final long WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long OP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long RECEIVE_END_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** The user data of a request: its kind in the low byte, the memory's id above. */
    private static final long RECV = 1;
    private static final long WAKE = 2;
    private static final long CANCEL = 3;
    /** Where a multishot recvmsg puts the payload: after io_uring_recvmsg_out (16 B) and the address (16 B). */
    static final int PAYLOAD_AT = 16 + Net.SOCKADDR_IN;
    /** With GRO, the control message the segment size comes in ({@code CMSG_SPACE(sizeof(int))}) goes before it. */
    static final int GRO_CONTROL = 24;
    private static final int BATCH = 256;
    /** The completions a moderated wait waits for. */
    private static final int COALESCE_BATCH = 64;

    /** What a queue operation does on the queue's thread. */
    private interface Task<T> {
        T run() throws QueueOperationException;
    }

    private final UringDevice device;
    final int index;
    final QueueId id;
    final int socket;
    private final boolean useIoUring;
    private final int ringSize;
    private final int coalesceMicros;
    /** Whether the socket coalesces a flow's datagrams into one buffer (UDP_GRO); io_uring only. */
    private final boolean gro;
    private final int payloadAt;
    final UringCounters counters = new UringCounters();
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile Throwable setUpFailure;
    private volatile boolean closing;
    /** The eventfd, for the queue thread's own use (polls, drains); set up and closed by that thread. */
    private int eventfd = -1;
    /** The same, for other threads' wakes: read and closed under one lock. */
    private volatile WakeFd wakeFd;
    /** Why the queue failed, or null; set by the thread, cleared by the next start. */
    private volatile String fault;
    private volatile UringMem published;

    // ---- owned by the queue's thread ----------------------------------------------------------------
    private Arena arena;
    private Sys sys;
    private IoUring ring;
    private MemorySegment msghdr;
    private MemorySegment pollfds;
    private UringDatagram view;
    private final Netmem[] batch = new Netmem[BATCH];
    /** The memory the queue receives into, or null while stopped. */
    private UringMem mem;
    /** Memories swapped out whose receive has not completed its last CQE yet. */
    private final List<UringMem> draining = new ArrayList<>();
    private boolean started;
    private int nextGroup;
    private MemoryArea checkedArea;

    UringQueue(UringDevice device, int index, int socket, boolean useIoUring, int ringSize, int coalesceMicros,
            boolean gro) {
        this.device = device;
        this.index = index;
        this.id = new QueueId(device.name(), index);
        this.socket = socket;
        this.useIoUring = useIoUring;
        this.ringSize = ringSize;
        this.coalesceMicros = coalesceMicros;
        this.gro = gro && useIoUring;
        this.payloadAt = PAYLOAD_AT + (this.gro ? GRO_CONTROL : 0);
        this.thread = new Thread(this, "napi-" + device.name() + "-" + index);
        this.thread.setDaemon(true);
    }

    /** Starts the thread and waits until its ring and eventfd are set up. */
    void open() {
        thread.start();
        try {
            if (!ready.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("queue " + id + ": its thread did not set up within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("queue " + id + ": interrupted while setting up");
        }
        Throwable t = setUpFailure;
        if (t != null) {
            throw new IllegalStateException("queue " + id + ": " + t.getMessage(), t);
        }
    }

    // ---- queue management, from the control thread ----------------------------------------------

    /**
     * Creates a pool on the queue's thread, which owns it, and fills a ring (or the recvmmsg slots)
     * with its pages. On any failure the pool is closed: nothing is left behind.
     */
    UringMem memAlloc() throws QueueOperationException {
        return onThread(() -> {
            PagePool pool = device.createPool(index);
            UringMem m;
            try {
                m = useIoUring ? UringMem.forIoUring(index, newGroup(), pool, ringSize)
                        : UringMem.forRecvmmsg(index, newGroup(), pool, ringSize);
            } catch (RuntimeException | Error e) {
                pool.close();
                throw e;
            }
            try {
                int want = useIoUring ? ringSize : m.slots;
                if (useIoUring) {
                    refill(m);
                } else {
                    refillSlots(m, 0);
                }
                int got = useIoUring ? m.posted : m.filled;
                if (got < want) {
                    throw new QueueOperationException("queue " + id + ": provider '" + pool.info().provider() + "' gave "
                            + got + " of " + want + " RX buffers");
                }
                if (useIoUring) {
                    ring.register(m.ring);
                    m.registered = true;
                }
            } catch (QueueOperationException | RuntimeException | Error e) {
                m.free();
                throw e;
            }
            return m;
        });
    }

    /** A buffer group id no memory of this queue uses (1..65535). */
    private int newGroup() {
        while (true) {
            nextGroup = nextGroup % 65535 + 1;
            if (!inUse(nextGroup)) {
                return nextGroup;
            }
        }
    }

    private boolean inUse(int group) {
        if (mem != null && mem.id == group) {
            return true;
        }
        for (UringMem d : draining) {
            if (d.id == group) {
                return true;
            }
        }
        return false;
    }

    /**
     * Stops the queue: the receive is cancelled and its last completion reaped, so the kernel no
     * longer writes into the memory. Datagrams wait in the socket buffer until start.
     */
    UringMem stop() throws QueueOperationException {
        return onThread(() -> {
            UringMem old = mem;
            if (old == null) {
                return null;
            }
            if (useIoUring && !old.receiveEnded) {
                cancel(old);
                if (!awaitReceiveEnded(old)) {
                    throw new QueueOperationException("queue " + id + ": the kernel did not end the receive on group "
                            + old.id + " within 2 s");
                }
            }
            setMem(null);
            return old;
        });
    }

    void start(UringMem m) throws QueueOperationException {
        onThread(() -> {
            if (mem != null) {
                throw new QueueOperationException("queue " + id + " is running (expected: a stopped queue)");
            }
            setMem(m);
            if (useIoUring) {
                arm(m);
            }
            fault = null;
            if (started) {
                counters.add(UringCounters.RESTARTS, 1);
            }
            started = true;
            counters.publish();
            return null;
        });
    }

    /**
     * Make-before-break: cancels the receive on the old group and arms one on the new group in one
     * submission. The old memory drains (its last completions are still delivered) until memFree.
     */
    UringMem swap(UringMem m) throws QueueOperationException {
        return onThread(() -> {
            UringMem old = mem;
            if (old == null) {
                throw new QueueOperationException("queue " + id + " is stopped (expected: a running queue)");
            }
            if (useIoUring) {
                if (!old.receiveEnded) {
                    cancel(old);
                    draining.add(old);
                }
                arm(m);
            }
            setMem(m);
            fault = null;
            counters.add(UringCounters.RESTARTS, 1);
            counters.publish();
            return old;
        });
    }

    /** Frees memory the queue no longer runs on, once the kernel is done with it. */
    void memFree(UringMem m) {
        if (!thread.isAlive()) {
            m.free(); // the ring is closed: the kernel let go of every buffer
            return;
        }
        try {
            onThread(() -> {
                if (m == mem) {
                    throw new QueueOperationException("queue " + id + " runs on group " + m.id
                            + " (expected: memory it was stopped or swapped off)");
                }
                release(m);
                return null;
            });
        } catch (QueueOperationException e) {
            LOG.log(Level.ERROR, "memFree of " + id + ": " + e.getMessage(), e);
        }
    }

    /** On the thread: ends the memory's receive, takes its ring from the kernel and frees it. */
    private void release(UringMem m) {
        if (useIoUring && ring != null) {
            if (!m.receiveEnded) {
                cancel(m);
                if (!awaitReceiveEnded(m)) {
                    LOG.log(Level.WARNING, "queue {0}: the receive on group {1} did not end within 2 s; its ring is"
                            + " unregistered regardless", id, m.id);
                }
            }
            draining.remove(m);
            if (m.registered) {
                m.registered = false;
                ring.unregister(m.ring);
            }
        }
        m.free();
    }

    boolean running() {
        return published != null;
    }

    String fault() {
        return fault;
    }

    /** The pool the queue receives into, or null. */
    PagePool pool() {
        UringMem m = published;
        return m == null ? null : m.pool;
    }

    /** Buffers the kernel may fill now. */
    long posted() {
        UringMem m = published;
        return m == null ? 0 : useIoUring ? m.posted : m.filled;
    }

    private void setMem(UringMem m) {
        mem = m;
        published = m;
    }

    private <T> T onThread(Task<T> work) throws QueueOperationException {
        if (Thread.currentThread() == thread) {
            return work.run();
        }
        if (!thread.isAlive() || closing) {
            throw new QueueOperationException("queue " + id + " is closed");
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                f.complete(work.run());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        wake();
        try {
            return f.get(OP_TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof QueueOperationException q) {
                throw q;
            }
            throw new QueueOperationException("queue " + id + ": " + (c.getMessage() != null ? c.getMessage() : c), c);
        } catch (TimeoutException e) {
            throw new QueueOperationException("queue " + id + ": its thread did not answer within 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QueueOperationException("queue " + id + ": interrupted");
        }
    }

    /** Ends the thread's wait, from any thread: an eventfd write the ring (or poll) sees. */
    private void wake() {
        WakeFd w = wakeFd;
        if (w != null) {
            w.signal();
        }
    }

    // ---- the thread ------------------------------------------------------------------------------------

    @Override
    public void run() {
        try {
            setUp();
        } catch (Throwable t) {
            setUpFailure = t;
            tearDown();
            return;
        } finally {
            ready.countDown();
        }
        while (!closing) {
            try {
                runTasks();
                if (ring != null) {
                    receiveUring();
                } else {
                    receiveRecvmmsg();
                }
            } catch (Throwable t) {
                failed(t);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // no spinning on an error that stays
            }
        }
        runTasks();
        tearDown();
    }

    private void setUp() {
        arena = Arena.ofConfined();
        sys = new Sys(arena);
        eventfd = sys.eventfd();
        wakeFd = device.wakeFd(eventfd);
        view = new UringDatagram(id);
        if (useIoUring) {
            ring = new IoUring(sys, arena, Math.max(64, Math.min(ringSize, 4096)));
            // struct msghdr: the address's length (16) is all the multishot receive reads from it.
            msghdr = arena.allocate(56, 8);
            msghdr.set(JAVA_INT, 8, Net.SOCKADDR_IN);
            if (gro) {
                msghdr.set(java.lang.foreign.ValueLayout.JAVA_LONG, 40, GRO_CONTROL); // msg_controllen
            }
            ring.pollMultishot(eventfd, WAKE);
            ring.enter(0, 0);
        } else {
            pollfds = arena.allocate(16, 8); // two struct pollfd: the eventfd, the socket
            pollfds.set(JAVA_INT, 0, eventfd);
            pollfds.set(JAVA_SHORT, 4, (short) Sys.POLLIN);
            pollfds.set(JAVA_SHORT, 12, (short) Sys.POLLIN);
        }
    }

    private void runTasks() {
        for (Runnable t; (t = tasks.poll()) != null;) {
            t.run(); // queue operations complete their own futures, errors included
        }
    }

    private void tearDown() {
        try {
            if (mem != null) {
                release(mem);
                setMem(null);
            }
            for (UringMem d : List.copyOf(draining)) {
                release(d);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "queue " + id + ": freeing its memory at close: " + e.getMessage(), e);
        }
        if (ring != null) {
            ring.close();
        }
        WakeFd w = wakeFd;
        if (w != null) {
            w.close(); // after this no wake writes to the number, whoever reuses it
        } else if (eventfd >= 0) {
            device.closeEventfd(eventfd);
        }
        eventfd = -1;
        if (arena != null) {
            arena.close();
        }
    }

    /** Closes the thread; the device stops and frees every queue first. */
    void close() {
        closing = true;
        wake();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The thread met something it did not expect: count it, and fail the queue until its next start. */
    private void failed(Throwable t) {
        counters.add(UringCounters.ERRORS, 1);
        counters.publish();
        String why = t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        if (fault == null) {
            LOG.log(Level.WARNING, "queue " + id + " failed; the engine restarts it: " + why, t);
        }
        fault = why;
    }

    // ---- io_uring -----------------------------------------------------------------------------------

    private void receiveUring() {
        // With moderation: wake for a batch, or once coalesce.usecs passed with anything to reap.
        ring.enter(coalesceMicros > 0 ? COALESCE_BATCH : 1, WAIT_NANOS, coalesceMicros);
        if (ring.reap(this) > 0) {
            counters.add(UringCounters.POLLS, 1);
        }
        long overflow = ring.cqOverflow();
        if (overflow != 0) {
            // A completion lost means a buffer the kernel filled and nobody will give back: said, not hidden.
            counters.set(UringCounters.CQ_OVERFLOW, overflow);
        }
        UringMem m = mem;
        if (m != null) {
            refill(m);
            if (m.receiveEnded && m.posted > 0 && fault == null) {
                arm(m); // the group ran dry (ENOBUFS) or the kernel ended it: receive again
                counters.add(UringCounters.REARMS, 1);
            }
        }
        counters.publish();
    }

    private void arm(UringMem m) {
        ring.recvMsgMultishot(socket, msghdr, m.id, RECV | (long) m.id << 8);
        m.receiveEnded = false;
    }

    private void cancel(UringMem m) {
        ring.cancel(RECV | (long) m.id << 8, CANCEL | (long) m.id << 8);
    }

    /** Reaps completions (delivering what still arrives) until the memory's receive has ended. */
    private boolean awaitReceiveEnded(UringMem m) {
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
            UringMem m = memOf((int) (userData >>> 8));
            if (res >= 0 && (flags & IoUring.CQE_F_BUFFER) != 0) {
                received(m, m.take(flags >>> IoUring.CQE_BUFFER_SHIFT));
            }
            if ((flags & IoUring.CQE_F_MORE) == 0) {
                m.receiveEnded = true;
                if (res == -Sys.ENOBUFS) {
                    counters.add(UringCounters.NO_BUFFER, 1);
                } else if (res < 0 && res != -Sys.ECANCELED) {
                    counters.add(UringCounters.RECEIVE_ERRORS, 1);
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

    private UringMem memOf(int group) {
        if (mem != null && mem.id == group) {
            return mem;
        }
        for (UringMem d : draining) {
            if (d.id == group) {
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
    private void received(UringMem m, Netmem nm) {
        MemorySegment area = nm.area().memory();
        long page = (long) nm.index() << nm.area().pageShift();
        int payload = area.get(JAVA_INT_UNALIGNED, page + 8);
        int outFlags = area.get(JAVA_INT_UNALIGNED, page + 12);
        int room = m.pageSize - payloadAt;
        if ((outFlags & Sys.MSG_TRUNC) != 0 || payload > room) {
            counters.add(UringCounters.TRUNCATED, 1);
            payload = Math.min(payload, room);
        }
        int address = Net.address(area, page + 16);
        int port = Net.port(area, page + 16);
        int segment = gro ? segmentSize(area, page) : 0;
        if (segment <= 0 || segment >= payload) {
            deliver(m, nm, area, page, payloadAt, payload, address, port);
        } else {
            counters.add(UringCounters.GRO_BUFFERS, 1);
            for (int off = 0; off < payload; off += segment) {
                deliver(m, nm, area, page, payloadAt + off, Math.min(segment, payload - off), address, port);
            }
        }
        m.pool.recycleDirect(nm);
    }

    /** The UDP_GRO control message's segment size, or 0 when the kernel sent none (one datagram). */
    private static int segmentSize(MemorySegment area, long page) {
        int controlLen = area.get(JAVA_INT_UNALIGNED, page + 4);
        long cmsg = page + PAYLOAD_AT; // struct cmsghdr: len (8), level (4), type (4), then the int
        if (controlLen < 20 || area.get(JAVA_INT_UNALIGNED, cmsg + 8) != Sys.SOL_UDP
                || area.get(JAVA_INT_UNALIGNED, cmsg + 12) != Sys.UDP_GRO) {
            return 0;
        }
        return area.get(JAVA_INT_UNALIGNED, cmsg + 16);
    }

    /** Posts pages of the pool to the ring until it is full or the pool runs dry, and publishes them once. */
    private void refill(UringMem m) {
        int room = m.room();
        int added = 0;
        while (room > 0) {
            int want = Math.min(room, BATCH);
            int n = m.pool.alloc(batch, want);
            for (int i = 0; i < n; i++) {
                Netmem nm = batch[i];
                batch[i] = null;
                checkMemory(m, nm);
                m.post(nm);
            }
            added += n;
            room -= n;
            if (n < want) {
                counters.add(UringCounters.ALLOC_FAIL, 1);
                break;
            }
        }
        if (added > 0) {
            m.ring.publish();
        }
    }

    /** The kernel writes into the page: it must be ordinary memory this process can address. */
    private void checkMemory(UringMem m, Netmem nm) {
        MemoryArea a = nm.area();
        if (a == checkedArea) {
            return;
        }
        if (!a.isReadable() || !a.memory().isNative()) {
            m.pool.release(nm);
            throw new IllegalStateException("provider '" + a.provider() + "' gave " + nm + " (expected: host memory"
                    + " the kernel can write a datagram into)");
        }
        checkedArea = a;
    }

    // ---- recvmmsg ---------------------------------------------------------------------------------------

    private void receiveRecvmmsg() {
        UringMem m = mem;
        if (m != null && fault == null) {
            if (m.filled < m.slots) {
                refillSlots(m, 0);
            }
            if (m.filled > 0) {
                int n = sys.recvmmsg(socket, m.msgvec, m.filled);
                if (n > 0) {
                    counters.add(UringCounters.POLLS, 1);
                    for (int i = 0; i < n; i++) {
                        receivedSlot(m, i);
                    }
                    refillSlots(m, n);
                    counters.publish();
                    return;
                }
            }
        }
        // Nothing waiting: sleep until a datagram or a task arrives.
        boolean listen = m != null && m.filled > 0 && fault == null;
        pollfds.set(JAVA_INT, 8, listen ? socket : -1);
        pollfds.set(JAVA_SHORT, 6, (short) 0);
        if (sys.poll(pollfds, 2, 50) > 0 && pollfds.get(JAVA_SHORT, 6) != 0) {
            sys.drain(eventfd);
        }
        counters.publish();
    }

    private void receivedSlot(UringMem m, int i) {
        Netmem nm = m.slotPages[i];
        m.slotPages[i] = null;
        int len = m.received(i);
        if ((m.flags(i) & Sys.MSG_TRUNC) != 0 || len > m.pageSize) {
            counters.add(UringCounters.TRUNCATED, 1);
            len = Math.min(len, m.pageSize);
        }
        long name = (long) Net.SOCKADDR_IN * i;
        MemorySegment area = nm.area().memory();
        long page = (long) nm.index() << nm.area().pageShift();
        deliver(m, nm, area, page, 0, len, Net.address(m.names, name), Net.port(m.names, name));
        m.pool.recycleDirect(nm);
    }

    /**
     * Refills the slots after a recvmmsg took the first {@code taken}: the last filled slots move
     * into the holes, then the pool tops the slots up.
     */
    private void refillSlots(UringMem m, int taken) {
        int hole = 0;
        int src = m.filled - 1;
        while (hole < taken && src >= taken) {
            m.slot(hole++, m.slotPages[src]);
            m.slotPages[src--] = null;
        }
        int filled = hole < taken ? hole : src + 1;
        int room = m.slots - filled;
        if (room > 0) {
            int n = m.pool.alloc(batch, room);
            for (int j = 0; j < n; j++) {
                Netmem nm = batch[j];
                batch[j] = null;
                checkMemory(m, nm);
                m.slot(filled++, nm);
            }
            if (n < room) {
                counters.add(UringCounters.ALLOC_FAIL, 1);
            }
        }
        m.filled = filled;
    }

    // ---- both paths ---------------------------------------------------------------------------------------

    /**
     * Hands a datagram to the device's consumer, or verifies it when there is none. The page's
     * recycling is the caller's: one buffer may carry several datagrams.
     */
    private void deliver(UringMem m, Netmem nm, MemorySegment area, long page, int offset, int length, int address,
            int port) {
        counters.add(UringCounters.PACKETS, 1);
        counters.add(UringCounters.BYTES, length);
        DatagramConsumer c = device.consumer();
        if (c != null) {
            view.set(m.pool, nm, area, page, offset, length, address, port);
            try {
                c.receive(view);
                counters.add(UringCounters.DELIVERED, 1);
            } catch (Throwable t) {
                counters.add(UringCounters.CONSUMER_ERRORS, 1);
                device.consumerFailed(c, t);
            }
            if (view.clear()) {
                counters.add(UringCounters.KEPT, 1);
            }
        } else {
            int v = Traffic.verify(area, page + offset, length);
            counters.add(v == Traffic.VERIFIED ? UringCounters.VERIFIED
                    : v == Traffic.CORRUPT ? UringCounters.CORRUPT : UringCounters.UNVERIFIABLE, 1);
        }
    }
}

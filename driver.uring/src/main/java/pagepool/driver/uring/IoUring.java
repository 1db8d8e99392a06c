package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * One io_uring, set up and driven through the raw system calls: the submission and completion
 * rings and the SQE array mapped into this process, their head and tail indexes read and written
 * with acquire and release ordering, as liburing's inline helpers do. Owned by one thread (the
 * ring is set up {@code SINGLE_ISSUER} with {@code DEFER_TASKRUN}: completions are posted when that
 * thread waits for them), which makes every call here; nothing here allocates after set-up.
 */
final class IoUring implements AutoCloseable {

    static final int SETUP_SINGLE_ISSUER = 1 << 12;
    static final int SETUP_DEFER_TASKRUN = 1 << 13;
    static final int ENTER_GETEVENTS = 1;
    static final int ENTER_EXT_ARG = 1 << 3;
    static final int FEAT_MIN_TIMEOUT = 1 << 15;

    static final byte OP_POLL_ADD = 6;
    static final byte OP_RECVMSG = 10;
    static final byte OP_ASYNC_CANCEL = 14;
    static final byte SQE_BUFFER_SELECT = 1 << 5;
    static final short RECV_MULTISHOT = 1 << 1;
    static final int POLL_ADD_MULTI = 1;
    static final int CQE_F_BUFFER = 1;
    static final int CQE_F_MORE = 1 << 1;
    static final int CQE_BUFFER_SHIFT = 16;

    private static final int REGISTER_PBUF_RING = 22;
    private static final int UNREGISTER_PBUF_RING = 23;
    private static final long OFF_SQES = 0x10000000L;
    private static final VarHandle INT = JAVA_INT.varHandle();

    /** What a completion said; the ring calls it for each CQE it reaps. */
    interface Completions {
        void complete(long userData, int res, int flags);
    }

    private final Sys sys;
    final int fd;
    private final MemorySegment ring;
    private final MemorySegment sqes;
    private final int sqHeadOff;
    private final int sqTailOff;
    private final int sqArrayOff;
    private final int sqMask;
    private final int sqEntries;
    private final int cqHeadOff;
    private final int cqTailOff;
    private final int cqesOff;
    private final int cqMask;
    private final MemorySegment waitArg;
    private final MemorySegment timespec;
    private final MemorySegment bufReg;
    /** Whether the kernel takes a minimum wait for a batch ({@code IORING_FEAT_MIN_TIMEOUT}, 6.12). */
    final boolean minTimeout;
    /** SQEs written and not yet handed to the kernel. */
    private int pending;
    private int sqTail;

    /**
     * @param entries submission queue entries (the completion queue has twice as many)
     * @param arena the owner's arena, for the small structures the calls take
     */
    IoUring(Sys sys, Arena arena, int entries) {
        this.sys = sys;
        MemorySegment p = arena.allocate(120, 8);
        p.set(JAVA_INT, 8, SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN);
        this.fd = sys.ioUringSetup(entries, p);
        try {
            this.sqEntries = p.get(JAVA_INT, 0);
            this.minTimeout = (p.get(JAVA_INT, 20) & FEAT_MIN_TIMEOUT) != 0;
            int cqEntries = p.get(JAVA_INT, 4);
            // struct io_sqring_offsets at 40, struct io_cqring_offsets at 80: offsets into the mapping.
            sqHeadOff = p.get(JAVA_INT, 40);
            sqTailOff = p.get(JAVA_INT, 44);
            int sqMaskOff = p.get(JAVA_INT, 48);
            sqArrayOff = p.get(JAVA_INT, 64);
            cqHeadOff = p.get(JAVA_INT, 80);
            cqTailOff = p.get(JAVA_INT, 84);
            int cqMaskOff = p.get(JAVA_INT, 88);
            cqesOff = p.get(JAVA_INT, 100);
            // IORING_FEAT_SINGLE_MMAP (every kernel since 5.4): one mapping for both rings.
            long size = Math.max(sqArrayOff + 4L * sqEntries, cqesOff + 16L * cqEntries);
            this.ring = sys.mmap(size, fd, 0, "io_uring rings");
            this.sqes = sys.mmap(64L * sqEntries, fd, OFF_SQES, "io_uring SQEs");
            this.sqMask = ring.get(JAVA_INT, sqMaskOff);
            this.cqMask = ring.get(JAVA_INT, cqMaskOff);
            this.sqTail = (int) INT.getAcquire(ring, (long) sqTailOff);
        } catch (RuntimeException e) {
            sys.close(fd);
            throw e;
        }
        this.waitArg = arena.allocate(24, 8);
        this.timespec = arena.allocate(16, 8);
        this.bufReg = arena.allocate(40, 8);
    }

    /** Room for another SQE before the next {@link #enter}. */
    boolean hasRoom() {
        return sqTail - (int) INT.getAcquire(ring, (long) sqHeadOff) < sqEntries;
    }

    /** The next SQE, zeroed, queued for the next {@link #enter}; the caller fills it in. */
    private long nextSqe() {
        if (!hasRoom()) {
            throw new IllegalStateException("io_uring submission queue full (" + sqEntries + " entries)");
        }
        int idx = sqTail & sqMask;
        long at = 64L * idx;
        for (int i = 0; i < 64; i += 8) {
            sqes.set(JAVA_LONG, at + i, 0L);
        }
        ring.set(JAVA_INT, sqArrayOff + 4L * idx, idx);
        sqTail++;
        pending++;
        INT.setRelease(ring, (long) sqTailOff, sqTail);
        return at;
    }

    /**
     * A multishot {@code recvmsg} with buffer selection: each datagram lands in a buffer of group
     * {@code bgid} (a {@code struct io_uring_recvmsg_out}, the source address, then the payload)
     * and completes with that buffer's id, until it is cancelled or the group runs dry.
     */
    void recvMsgMultishot(int socket, MemorySegment msghdr, int bgid, long userData) {
        long at = nextSqe();
        sqes.set(JAVA_BYTE, at, OP_RECVMSG);
        sqes.set(JAVA_BYTE, at + 1, SQE_BUFFER_SELECT);
        sqes.set(JAVA_SHORT, at + 2, RECV_MULTISHOT);
        sqes.set(JAVA_INT, at + 4, socket);
        sqes.set(JAVA_LONG, at + 16, msghdr.address());
        sqes.set(JAVA_INT, at + 24, 1);
        sqes.set(JAVA_LONG, at + 32, userData);
        sqes.set(JAVA_SHORT, at + 40, (short) bgid);
    }

    /** A multishot poll for {@code POLLIN} on {@code fd} (the eventfd other threads wake us with). */
    void pollMultishot(int fd, long userData) {
        long at = nextSqe();
        sqes.set(JAVA_BYTE, at, OP_POLL_ADD);
        sqes.set(JAVA_INT, at + 4, fd);
        sqes.set(JAVA_INT, at + 24, POLL_ADD_MULTI);
        sqes.set(JAVA_INT, at + 28, Sys.POLLIN);
        sqes.set(JAVA_LONG, at + 32, userData);
    }

    /** Cancels the request submitted with {@code target} as its user data. */
    void cancel(long target, long userData) {
        long at = nextSqe();
        sqes.set(JAVA_BYTE, at, OP_ASYNC_CANCEL);
        sqes.set(JAVA_INT, at + 4, -1);
        sqes.set(JAVA_LONG, at + 16, target); // addr: the user data of the request to cancel
        sqes.set(JAVA_LONG, at + 32, userData);
    }

    /**
     * Hands the queued SQEs to the kernel and waits for at least {@code minComplete} completions,
     * or {@code timeoutNanos} (0: no wait).
     */
    void enter(int minComplete, long timeoutNanos) {
        enter(minComplete, timeoutNanos, 0);
    }

    /**
     * As {@link #enter(int, long)}, waiting at most {@code minWaitMicros} for the whole batch of
     * {@code minComplete}: after that, any completion ends the wait (a NIC's interrupt moderation).
     * Where the kernel cannot, it waits for one completion.
     */
    void enter(int minComplete, long timeoutNanos, int minWaitMicros) {
        if (minWaitMicros > 0 && !minTimeout) {
            minComplete = Math.min(minComplete, 1);
            minWaitMicros = 0;
        }
        int flags = 0;
        MemorySegment arg = MemorySegment.NULL;
        long argSize = 0;
        if (minComplete > 0) {
            flags = ENTER_GETEVENTS | ENTER_EXT_ARG;
            timespec.set(JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
            timespec.set(JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
            // struct io_uring_getevents_arg: sigmask 0, sigmask_sz 8, min_wait_usec, ts
            waitArg.set(JAVA_LONG, 0, 0L);
            waitArg.set(JAVA_INT, 8, 8);
            waitArg.set(JAVA_INT, 12, minWaitMicros);
            waitArg.set(JAVA_LONG, 16, timespec.address());
            arg = waitArg;
            argSize = 24;
        } else {
            // DEFER_TASKRUN: the kernel posts completions only when we ask for events.
            flags = ENTER_GETEVENTS;
        }
        long r = sys.ioUringEnter(fd, pending, minComplete, flags, arg, argSize);
        if (r > 0) {
            pending -= (int) r;
        }
    }

    /** Reaps every completion there is, in order; returns how many. */
    int reap(Completions c) {
        int head = (int) INT.getAcquire(ring, (long) cqHeadOff);
        int tail = (int) INT.getAcquire(ring, (long) cqTailOff);
        int n = 0;
        while (head != tail) {
            long at = cqesOff + 16L * (head & cqMask);
            long userData = ring.get(JAVA_LONG, at);
            int res = ring.get(JAVA_INT, at + 8);
            int flags = ring.get(JAVA_INT, at + 12);
            head++;
            // Released before the handler runs: it may queue SQEs whose completions need room.
            INT.setRelease(ring, (long) cqHeadOff, head);
            c.complete(userData, res, flags);
            n++;
        }
        return n;
    }

    /** Registers a provided-buffer ring ({@code IORING_REGISTER_PBUF_RING}) as group {@code bgid}. */
    void register(BufferRing br) {
        bufReg.fill((byte) 0);
        bufReg.set(JAVA_LONG, 0, br.memory().address());
        bufReg.set(JAVA_INT, 8, br.entries());
        bufReg.set(JAVA_SHORT, 12, (short) br.bgid());
        sys.ioUringRegister(fd, REGISTER_PBUF_RING, bufReg, 1, "PBUF_RING");
    }

    void unregister(BufferRing br) {
        bufReg.fill((byte) 0);
        bufReg.set(JAVA_SHORT, 12, (short) br.bgid());
        sys.ioUringRegister(fd, UNREGISTER_PBUF_RING, bufReg, 1, "UNREGISTER_PBUF_RING");
    }

    @Override
    public void close() {
        sys.munmap(sqes);
        sys.munmap(ring);
        sys.close(fd);
    }
}

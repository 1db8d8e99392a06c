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

    // struct io_uring_params (include/uapi/linux/io_uring.h), 120 bytes
    private static final long PARAMS_SIZE = 120;
    private static final long P_SQ_ENTRIES = 0;
    private static final long P_CQ_ENTRIES = 4;
    private static final long P_FLAGS = 8;
    private static final long P_FEATURES = 20;
    private static final long P_SQ_OFF = 40; // struct io_sqring_offsets
    private static final long P_CQ_OFF = 80; // struct io_cqring_offsets
    // struct io_sqring_offsets: where each field sits in the ring mapping
    private static final long SQ_HEAD = 0;
    private static final long SQ_TAIL = 4;
    private static final long SQ_RING_MASK = 8;
    private static final long SQ_ARRAY = 24;
    // struct io_cqring_offsets
    private static final long CQ_HEAD = 0;
    private static final long CQ_TAIL = 4;
    private static final long CQ_RING_MASK = 8;
    private static final long CQ_OVERFLOW = 16;
    private static final long CQ_CQES = 20;
    // struct io_uring_sqe, 64 bytes
    private static final long SQE_SIZE = 64;
    private static final long SQE_OPCODE = 0;
    private static final long SQE_FLAGS = 1;
    private static final long SQE_IOPRIO = 2;
    private static final long SQE_FD = 4;
    private static final long SQE_ADDR = 16;
    private static final long SQE_LEN = 24;
    private static final long SQE_OP_FLAGS = 28; // poll32_events, msg_flags, ...
    private static final long SQE_USER_DATA = 32;
    private static final long SQE_BUF_GROUP = 40;
    // struct io_uring_cqe, 16 bytes
    private static final long CQE_SIZE = 16;
    private static final long CQE_USER_DATA = 0;
    private static final long CQE_RES = 8;
    private static final long CQE_FLAGS = 12;
    // struct io_uring_buf_reg, 40 bytes
    private static final long BUF_REG_SIZE = 40;
    private static final long BUF_REG_RING_ADDR = 0;
    private static final long BUF_REG_RING_ENTRIES = 8;
    private static final long BUF_REG_BGID = 12;
    // struct io_uring_getevents_arg, 24 bytes
    private static final long GETEVENTS_ARG_SIZE = 24;
    private static final long ARG_SIGMASK = 0;
    private static final long ARG_SIGMASK_SZ = 8;
    private static final long ARG_MIN_WAIT_USEC = 12;
    private static final long ARG_TS = 16;

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
    private final int cqOverflowOff;
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
        MemorySegment p = arena.allocate(PARAMS_SIZE, 8);
        p.set(JAVA_INT, P_FLAGS, SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN);
        this.fd = sys.ioUringSetup(entries, p);
        try {
            this.sqEntries = p.get(JAVA_INT, P_SQ_ENTRIES);
            this.minTimeout = (p.get(JAVA_INT, P_FEATURES) & FEAT_MIN_TIMEOUT) != 0;
            int cqEntries = p.get(JAVA_INT, P_CQ_ENTRIES);
            sqHeadOff = p.get(JAVA_INT, P_SQ_OFF + SQ_HEAD);
            sqTailOff = p.get(JAVA_INT, P_SQ_OFF + SQ_TAIL);
            int sqMaskOff = p.get(JAVA_INT, P_SQ_OFF + SQ_RING_MASK);
            sqArrayOff = p.get(JAVA_INT, P_SQ_OFF + SQ_ARRAY);
            cqHeadOff = p.get(JAVA_INT, P_CQ_OFF + CQ_HEAD);
            cqTailOff = p.get(JAVA_INT, P_CQ_OFF + CQ_TAIL);
            int cqMaskOff = p.get(JAVA_INT, P_CQ_OFF + CQ_RING_MASK);
            cqOverflowOff = p.get(JAVA_INT, P_CQ_OFF + CQ_OVERFLOW);
            cqesOff = p.get(JAVA_INT, P_CQ_OFF + CQ_CQES);
            // IORING_FEAT_SINGLE_MMAP (every kernel since 5.4): one mapping for both rings.
            long size = Math.max(sqArrayOff + 4L * sqEntries, cqesOff + CQE_SIZE * cqEntries);
            this.ring = sys.mmap(size, fd, 0, "io_uring rings");
            this.sqes = sys.mmap(SQE_SIZE * sqEntries, fd, OFF_SQES, "io_uring SQEs");
            this.sqMask = ring.get(JAVA_INT, sqMaskOff);
            this.cqMask = ring.get(JAVA_INT, cqMaskOff);
            this.sqTail = (int) INT.getAcquire(ring, (long) sqTailOff);
        } catch (RuntimeException e) {
            sys.close(fd);
            throw e;
        }
        this.waitArg = arena.allocate(GETEVENTS_ARG_SIZE, 8);
        this.timespec = arena.allocate(16, 8);
        this.bufReg = arena.allocate(BUF_REG_SIZE, 8);
    }

    /** Room for another SQE before the next {@link #enter}. */
    boolean hasRoom() {
        return sqTail - (int) INT.getAcquire(ring, (long) sqHeadOff) < sqEntries;
    }

    /**
     * The next SQE, zeroed, queued for the next {@link #enter}; the caller fills it in. The tail is
     * published at {@link #enter}, after every queued SQE is filled (as liburing does at submit):
     * a kernel polling the ring (SQPOLL) must never see an entry half written.
     */
    private long nextSqe() {
        if (!hasRoom()) {
            throw new IllegalStateException("io_uring submission queue full (" + sqEntries + " entries)");
        }
        int idx = sqTail & sqMask;
        long at = SQE_SIZE * idx;
        for (int i = 0; i < SQE_SIZE; i += 8) {
            sqes.set(JAVA_LONG, at + i, 0L);
        }
        ring.set(JAVA_INT, sqArrayOff + 4L * idx, idx);
        sqTail++;
        pending++;
        return at;
    }

    /** Completions the kernel could not post because the completion queue was full ({@code cq.overflow}). */
    long cqOverflow() {
        return Integer.toUnsignedLong((int) INT.getAcquire(ring, (long) cqOverflowOff));
    }

    /**
     * A multishot {@code recvmsg} with buffer selection: each datagram lands in a buffer of group
     * {@code bgid} (a {@code struct io_uring_recvmsg_out}, the source address, then the payload)
     * and completes with that buffer's id, until it is cancelled or the group runs dry.
     */
    void recvMsgMultishot(int socket, MemorySegment msghdr, int bgid, long userData) {
        long at = nextSqe();
        sqes.set(JAVA_BYTE, at + SQE_OPCODE, OP_RECVMSG);
        sqes.set(JAVA_BYTE, at + SQE_FLAGS, SQE_BUFFER_SELECT);
        sqes.set(JAVA_SHORT, at + SQE_IOPRIO, RECV_MULTISHOT);
        sqes.set(JAVA_INT, at + SQE_FD, socket);
        sqes.set(JAVA_LONG, at + SQE_ADDR, msghdr.address());
        sqes.set(JAVA_INT, at + SQE_LEN, 1);
        sqes.set(JAVA_LONG, at + SQE_USER_DATA, userData);
        sqes.set(JAVA_SHORT, at + SQE_BUF_GROUP, (short) bgid);
    }

    /** A multishot poll for {@code POLLIN} on {@code fd} (the eventfd other threads wake us with). */
    void pollMultishot(int fd, long userData) {
        long at = nextSqe();
        sqes.set(JAVA_BYTE, at + SQE_OPCODE, OP_POLL_ADD);
        sqes.set(JAVA_INT, at + SQE_FD, fd);
        sqes.set(JAVA_INT, at + SQE_LEN, POLL_ADD_MULTI);
        sqes.set(JAVA_INT, at + SQE_OP_FLAGS, Sys.POLLIN);
        sqes.set(JAVA_LONG, at + SQE_USER_DATA, userData);
    }

    /** Cancels the request submitted with {@code target} as its user data. */
    void cancel(long target, long userData) {
        long at = nextSqe();
        sqes.set(JAVA_BYTE, at + SQE_OPCODE, OP_ASYNC_CANCEL);
        sqes.set(JAVA_INT, at + SQE_FD, -1);
        sqes.set(JAVA_LONG, at + SQE_ADDR, target); // the user data of the request to cancel
        sqes.set(JAVA_LONG, at + SQE_USER_DATA, userData);
    }

    /** A wait without a timeout: only a completion ends it. */
    static final long NO_TIMEOUT = Long.MAX_VALUE;

    /**
     * Hands the queued SQEs to the kernel and waits for at least {@code minComplete} completions,
     * or {@code timeoutNanos} ({@link #NO_TIMEOUT}: no timer is armed; not with a minimum wait).
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
            waitArg.set(JAVA_LONG, ARG_SIGMASK, 0L);
            waitArg.set(JAVA_INT, ARG_SIGMASK_SZ, 8);
            waitArg.set(JAVA_INT, ARG_MIN_WAIT_USEC, minWaitMicros);
            // No timer for a wait that a completion is sure to end: on a VM, arming and cancelling
            // one on every wait cost ~10% of a datagram's CPU at 10k/s.
            waitArg.set(JAVA_LONG, ARG_TS, timeoutNanos == NO_TIMEOUT ? 0L : timespec.address());
            arg = waitArg;
            argSize = GETEVENTS_ARG_SIZE;
        } else {
            // DEFER_TASKRUN: the kernel posts completions only when we ask for events.
            flags = ENTER_GETEVENTS;
        }
        if (pending > 0) {
            INT.setRelease(ring, (long) sqTailOff, sqTail); // every queued SQE is filled: publish them
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
            long at = cqesOff + CQE_SIZE * (head & cqMask);
            long userData = ring.get(JAVA_LONG, at + CQE_USER_DATA);
            int res = ring.get(JAVA_INT, at + CQE_RES);
            int flags = ring.get(JAVA_INT, at + CQE_FLAGS);
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
        bufReg.set(JAVA_LONG, BUF_REG_RING_ADDR, br.memory().address());
        bufReg.set(JAVA_INT, BUF_REG_RING_ENTRIES, br.entries());
        bufReg.set(JAVA_SHORT, BUF_REG_BGID, (short) br.bgid());
        sys.ioUringRegister(fd, REGISTER_PBUF_RING, bufReg, 1, "PBUF_RING");
    }

    void unregister(BufferRing br) {
        bufReg.fill((byte) 0);
        bufReg.set(JAVA_SHORT, BUF_REG_BGID, (short) br.bgid());
        sys.ioUringRegister(fd, UNREGISTER_PBUF_RING, bufReg, 1, "UNREGISTER_PBUF_RING");
    }

    @Override
    public void close() {
        sys.munmap(sqes);
        sys.munmap(ring);
        sys.close(fd);
    }
}

package pagepool.driver.xdp;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import pagepool.kit.linux.Libc;

/**
 * One AF_XDP socket with its own UMEM: the memory registered ({@code XDP_UMEM_REG}), its fill
 * and completion rings, its RX ring, bound to one queue of one interface. Set up in the order
 * the kernel wants: socket, UMEM, ring sizes, {@code XDP_MMAP_OFFSETS} (read, never hard-coded),
 * the mappings, then bind. The fill ring may be filled before the bind: the kernel reads it from
 * the first frame on. Not thread-safe: the creating thread sets it up, the queue's thread runs it.
 */
final class Xsk implements AutoCloseable {

    static final int AF_XDP = 44;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int SOL_XDP = 283;
    static final int XDP_MMAP_OFFSETS = 1;
    static final int XDP_RX_RING = 2;
    static final int XDP_UMEM_REG = 4;
    static final int XDP_UMEM_FILL_RING = 5;
    static final int XDP_UMEM_COMPLETION_RING = 6;
    static final int XDP_STATISTICS = 7;
    static final int XDP_OPTIONS = 8;
    static final int XDP_OPTIONS_ZEROCOPY = 1;
    static final long XDP_PGOFF_RX_RING = 0;
    static final long XDP_UMEM_PGOFF_FILL_RING = 0x100000000L;
    static final long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000L;
    static final int XDP_COPY = 1 << 1;
    static final int XDP_ZEROCOPY = 1 << 2;
    static final int XDP_USE_NEED_WAKEUP = 1 << 3;

    /** {@code struct xdp_statistics}, in order. */
    static final String[] STATISTICS = {"rx_dropped", "rx_invalid_descs", "tx_invalid_descs", "rx_ring_full",
        "rx_fill_ring_empty_descs", "tx_ring_empty_descs"};
    static final int STAT_RX_DROPPED = 0;
    static final int STAT_RX_INVALID = 1;
    static final int STAT_RX_RING_FULL = 3;
    static final int STAT_FILL_EMPTY = 4;

    private final Libc libc;
    final int fd;
    private final MemorySegment stats;
    private final MemorySegment options;
    private MemorySegment rxMap;
    private MemorySegment fillMap;
    private MemorySegment compMap;
    XskRing rx;
    XskRing fill;
    private boolean bound;
    private boolean zeroCopy;

    /**
     * Creates the socket and registers {@code umem} as its UMEM, frames of {@code chunk} bytes.
     *
     * @throws Libc.SysException from the call that failed (ENOBUFS: the UMEM is over the memlock limit)
     */
    Xsk(Arena arena, Libc libc, MemorySegment umem, int chunk, int fillSize, int rxSize) {
        this.libc = libc;
        this.stats = arena.allocate(8L * STATISTICS.length, 8);
        this.options = arena.allocate(4, 4);
        this.fd = libc.socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
        try {
            MemorySegment reg = arena.allocate(32, 8); // struct xdp_umem_reg; tx_metadata_len (6.8+) stays 0
            reg.set(JAVA_LONG, 0, umem.address());
            reg.set(JAVA_LONG, 8, umem.byteSize());
            reg.set(JAVA_INT, 16, chunk);
            libc.setsockopt(fd, SOL_XDP, XDP_UMEM_REG, reg, 32, "XDP_UMEM_REG of " + umem.byteSize() + " bytes");
            libc.setInt(fd, SOL_XDP, XDP_UMEM_FILL_RING, fillSize, "XDP_UMEM_FILL_RING " + fillSize);
            libc.setInt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, 64, "XDP_UMEM_COMPLETION_RING"); // no TX: the least
            libc.setInt(fd, SOL_XDP, XDP_RX_RING, rxSize, "XDP_RX_RING " + rxSize);
            MemorySegment off = arena.allocate(128, 8); // struct xdp_mmap_offsets: rx, tx, fr, cr
            libc.getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, off, "XDP_MMAP_OFFSETS");
            MemorySegment rxOff = off.asSlice(0, 32);
            MemorySegment frOff = off.asSlice(64, 32);
            MemorySegment crOff = off.asSlice(96, 32);
            rxMap = libc.mmap(XskRing.mapBytes(rxOff, rxSize, XskRing.DESC), fd, XDP_PGOFF_RX_RING, "RX ring");
            fillMap = libc.mmap(XskRing.mapBytes(frOff, fillSize, 8), fd, XDP_UMEM_PGOFF_FILL_RING, "fill ring");
            compMap = libc.mmap(XskRing.mapBytes(crOff, 64, 8), fd, XDP_UMEM_PGOFF_COMPLETION_RING, "completion ring");
            rx = new XskRing(rxMap, rxOff, rxSize, XskRing.DESC, false);
            fill = new XskRing(fillMap, frOff, fillSize, 8, true);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /**
     * Binds the socket to a queue: zero-copy when asked and the driver offers it, else copy.
     *
     * @throws Libc.SysException EBUSY when the queue has a socket already, EOPNOTSUPP when zero-copy was insisted on
     */
    void bind(Arena arena, int ifindex, int queue, int flags) {
        MemorySegment sa = arena.allocate(16, 4); // struct sockaddr_xdp
        sa.set(JAVA_SHORT, 0, (short) AF_XDP);
        sa.set(JAVA_SHORT, 2, (short) (flags | XDP_USE_NEED_WAKEUP));
        sa.set(JAVA_INT, 4, ifindex);
        sa.set(JAVA_INT, 8, queue);
        libc.bind(fd, sa, "AF_XDP socket to queue " + queue);
        bound = true;
        libc.getsockopt(fd, SOL_XDP, XDP_OPTIONS, options, "XDP_OPTIONS");
        zeroCopy = (options.get(JAVA_INT, 0) & XDP_OPTIONS_ZEROCOPY) != 0;
    }

    boolean bound() {
        return bound;
    }

    boolean zeroCopy() {
        return zeroCopy;
    }

    /** The kernel's {@code struct xdp_statistics} of this socket into {@code out} (6 values). */
    void statistics(long[] out) {
        libc.getsockopt(fd, SOL_XDP, XDP_STATISTICS, stats, "XDP_STATISTICS");
        for (int i = 0; i < STATISTICS.length; i++) {
            out[i] = stats.get(JAVA_LONG, 8L * i);
        }
    }

    /** When the kernel asks for it, a system call that makes it look at the fill ring. */
    void wakeIfAsked() {
        if (fill.needsWakeup()) {
            libc.kickReceive(fd);
        }
    }

    /** Unmaps the rings and closes the socket: the kernel unbinds it and lets go of the UMEM. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (MemorySegment m : new MemorySegment[] {rxMap, fillMap, compMap}) {
            if (m != null) {
                try {
                    libc.munmap(m);
                } catch (RuntimeException e) {
                    first = first == null ? e : first;
                }
            }
        }
        rxMap = fillMap = compMap = null;
        libc.close(fd);
        if (first != null) {
            throw first;
        }
    }
}

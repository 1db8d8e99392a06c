package pagepool.driver.xdp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.queue.QueueMemory;
import pagepool.api.queue.QueueOperationException;
import pagepool.kit.linux.Libc;

/**
 * One queue's RX memory: its page pool, the UMEM over the pool's pages (one contiguous range the
 * provider gave: {@code PoolParams.contiguousPages}) and the AF_XDP socket that registered it.
 * Frame {@code f} of the UMEM is the pool page at {@code base + f * 4096}; the page posted
 * under each frame is kept, so every page is the pool's or the kernel's, never lost. Made and
 * filled on the caller's thread; the queue's thread binds, runs and closes the socket.
 */
final class XdpMem implements QueueMemory {

    final int queue;
    final PagePool pool;
    /**
     * The small structures of the socket's calls; the collector frees them once the memory is
     * unreachable. Not a shared arena: closing one stops every thread of the process at a
     * handshake and deoptimizes the queue's compiled receive (driver.uring's swap lost 60 µs to it).
     */
    final Arena arena = Arena.ofAuto();
    /** The calls made on this memory's socket: by the caller while filling, then by the queue's thread. */
    final Libc libc = new Libc(arena);
    /** The UMEM: the range of the pool's pages, and where it starts and ends. */
    MemorySegment umem;
    long base;
    long end;
    /** The page posted under each frame, or null. */
    Netmem[] byFrame;
    int posted;
    Xsk xsk;
    /** Whether the socket was closed (the kernel let go of every frame). Guarded by {@link #statsLock}. */
    volatile boolean closed;
    final Object statsLock = new Object();

    XdpMem(int queue, PagePool pool) {
        this.queue = queue;
        this.pool = pool;
    }

    @Override
    public int queue() {
        return queue;
    }

    @Override
    public PagePool pool() {
        return pool;
    }

    /** Where a page's memory starts. */
    static long address(Netmem nm) {
        MemoryArea a = nm.area();
        return a.memory().address() + ((long) nm.index() << a.pageShift());
    }

    /**
     * Takes every page the pool has (its contiguous range), makes the UMEM their span and the
     * socket that registers it, and posts a ring's worth on the fill ring; the rest go back to the
     * pool for refills. Nothing is kept on a failure.
     *
     * @throws QueueOperationException naming what the provider gave, or the kernel's refusal
     */
    void fill(String queueName, int frames, int ring) throws QueueOperationException {
        Netmem[] all = new Netmem[frames];
        int got = 0;
        Netmem[] batch = new Netmem[256];
        while (got < frames) {
            int n = pool.alloc(batch, Math.min(batch.length, frames - got));
            if (n == 0) {
                break;
            }
            System.arraycopy(batch, 0, all, got, n);
            got += n;
        }
        try {
            if (got < ring) {
                throw new QueueOperationException("queue " + queueName + ": the provider gave " + got + " pages of "
                        + frames + " (expected: at least a fill ring of " + ring + ")");
            }
            long lo = Long.MAX_VALUE;
            long hi = Long.MIN_VALUE;
            for (int i = 0; i < got; i++) {
                MemoryArea a = all[i].area();
                if (!a.isReadable() || !a.memory().isNative() || a.pageSize() != XdpSettings.FRAME) {
                    throw new QueueOperationException("queue " + queueName + ": provider '" + a.provider() + "' gave "
                            + all[i] + " (expected: readable host memory in pages of " + XdpSettings.FRAME + " bytes)");
                }
                long at = address(all[i]);
                lo = Math.min(lo, at);
                hi = Math.max(hi, at + XdpSettings.FRAME);
            }
            if (hi - lo > (long) frames * XdpSettings.FRAME) {
                throw new QueueOperationException("queue " + queueName + ": provider '" + all[0].provider() + "' gave "
                        + got + " pages spread over " + (hi - lo) + " bytes (expected: one contiguous range of "
                        + frames + " pages, as PoolParams.contiguousPages asks)");
            }
            base = lo;
            end = hi;
            umem = MemorySegment.ofAddress(lo).reinterpret(hi - lo);
            byFrame = new Netmem[(int) ((hi - lo) / XdpSettings.FRAME)];
            try {
                xsk = new Xsk(arena, libc, umem, XdpSettings.FRAME, ring, ring);
            } catch (Libc.SysException e) {
                throw new QueueOperationException("queue " + queueName + ": " + e.getMessage()
                        + (e.errno() == Libc.ENOBUFS || e.errno() == Libc.ENOMEM ? " (a UMEM of " + (hi - lo)
                                + " bytes is over the memlock limit: raise ulimit -l, or run with CAP_IPC_LOCK)" : "")
                        + (e.errno() == Libc.EPERM ? " (AF_XDP needs CAP_NET_RAW and CAP_NET_ADMIN)" : ""), e);
            }
            int n = Math.min(ring, xsk.fill.free());
            for (int i = 0; i < n; i++) {
                int f = frame(all[i]);
                byFrame[f] = all[i];
                xsk.fill.putAddress(i, (long) f * XdpSettings.FRAME);
                all[i] = null;
            }
            xsk.fill.submit(n);
            posted = n;
        } finally {
            for (int i = 0; i < got; i++) {
                if (all[i] != null) {
                    pool.recycleDirect(all[i]); // not posted: back to the pool's cache for refills
                }
            }
        }
    }

    /**
     * A new socket over the same UMEM, after a stop closed the last one: every page still posted
     * (the kernel let go of them) goes on its fill ring again. The queue's thread.
     */
    void reopen(int ring) {
        synchronized (statsLock) {
            xsk = new Xsk(arena, libc, umem, XdpSettings.FRAME, ring, ring);
            closed = false;
        }
        int k = 0;
        for (int f = 0; f < byFrame.length && k < ring; f++) {
            if (byFrame[f] != null) {
                xsk.fill.putAddress(k++, (long) f * XdpSettings.FRAME);
            }
        }
        xsk.fill.submit(k);
    }

    /** The UMEM frame of a page, or -1 when the page is outside the UMEM. */
    int frame(Netmem nm) {
        long at = address(nm);
        return at < base || at >= end ? -1 : (int) ((at - base) >>> 12);
    }

    /** Closes the socket (the kernel lets go of every frame); its last statistics are added to {@code into}. */
    void closeSocket(long[] into, long[] scratch) {
        synchronized (statsLock) {
            if (closed || xsk == null) {
                closed = true;
                return;
            }
            try {
                xsk.statistics(scratch);
                for (int i = 0; i < scratch.length; i++) {
                    into[i] += scratch[i];
                }
            } finally {
                closed = true;
                xsk.close();
            }
        }
    }

    /** Adds the live socket's statistics to {@code out}; nothing once it is closed. Any thread. */
    void addStatistics(long[] out, long[] scratch) {
        synchronized (statsLock) {
            if (!closed && xsk != null && xsk.bound()) {
                xsk.statistics(scratch);
                for (int i = 0; i < scratch.length; i++) {
                    out[i] += scratch[i];
                }
            }
        }
    }

    /** Gives every posted page back to the pool, closes the socket if open, and the pool. */
    void free() {
        synchronized (statsLock) {
            if (!closed && xsk != null) {
                closed = true;
                xsk.close();
            }
        }
        if (byFrame != null) {
            for (int f = 0; f < byFrame.length; f++) {
                if (byFrame[f] != null) {
                    pool.release(byFrame[f]);
                    byFrame[f] = null;
                }
            }
        }
        posted = 0;
        pool.close();
    }

    @Override
    public String toString() {
        return "UMEM of " + (end - base) + " bytes at 0x" + Long.toHexString(base) + " (pool " + pool.id() + ")";
    }
}

package pagepool.driver.uring;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicBoolean;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.queue.QueueMemory;

/**
 * One queue's RX memory: its page pool and the pages posted to the kernel, in the form its
 * receive path wants ({@link RingMem} for io_uring, {@link SlotMem} for recvmmsg). Owned by the
 * queue's thread once filled.
 */
abstract class UringMem implements QueueMemory {

    final int queue;
    final PagePool pool;
    final int pageSize;
    /**
     * What the kernel is given beside the pages (the buffer ring, the message headers): a few KiB
     * the collector frees once the memory is unreachable. Not a shared arena: closing one stops
     * every thread of the process at a handshake (~50–100 µs here), and the queue's compiled
     * receive, which reads such memory, is deoptimized there; a swap did that twice.
     */
    final Arena arena = Arena.ofAuto();
    private final AtomicBoolean freed = new AtomicBoolean();

    UringMem(int queue, PagePool pool) {
        this.queue = queue;
        this.pool = pool;
        this.pageSize = pool.params().pageSize();
    }

    @Override
    public final int queue() {
        return queue;
    }

    @Override
    public final PagePool pool() {
        return pool;
    }

    /** Buffers the kernel may fill now. */
    abstract int posted();

    /** Gives every posted page back to the pool ({@link #pool}'s own release). */
    abstract void releasePosted();

    /** Where a page's memory starts, for the kernel. */
    static long address(Netmem nm) {
        return nm.area().memory().address() + ((long) nm.index() << nm.area().pageShift());
    }

    /**
     * Gives every page still posted back to the pool, and closes it (it detaches while pages are
     * out); once: the queue's tear-down and a late memFree may both ask. Any thread.
     */
    final void free() {
        if (!freed.compareAndSet(false, true)) {
            return;
        }
        releasePosted();
        pool.close();
    }
}

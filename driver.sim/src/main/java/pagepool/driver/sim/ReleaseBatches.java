package pagepool.driver.sim;

import java.util.Arrays;

import pagepool.api.Netmem;
import pagepool.api.PagePool;

/**
 * Pages a socket thread gives back, gathered per pool and released a batch at a time with
 * {@link PagePool#release(Netmem[], int[], int)} ({@code page_pool_put_netmem_bulk}): one ring
 * reservation per batch instead of one per page. A few pools at once (a queue's data and header
 * pools, a queue being swapped); the thread that owns it only, and it allocates nothing.
 */
final class ReleaseBatches {

    private static final System.Logger LOG = System.getLogger(ReleaseBatches.class.getName());
    private static final int POOLS = 4;
    static final int BATCH = 64;

    private final PagePool[] pools = new PagePool[POOLS];
    private final Netmem[][] pages = new Netmem[POOLS][BATCH];
    private final int[][] generations = new int[POOLS][BATCH];
    private final int[] counts = new int[POOLS];

    /** Adds a page to its pool's batch; a full batch goes back at once. */
    void add(PagePool pool, Netmem page, int generation) {
        int slot = slotOf(pool);
        int n = counts[slot];
        pages[slot][n] = page;
        generations[slot][n] = generation;
        counts[slot] = ++n;
        if (n == BATCH) {
            flush(slot);
        }
    }

    private int slotOf(PagePool pool) {
        int free = -1;
        for (int i = 0; i < POOLS; i++) {
            if (pools[i] == pool) {
                return i;
            }
            if (free < 0 && counts[i] == 0) {
                free = i;
            }
        }
        if (free < 0) {
            free = 0;
            flush(0); // more pools at once than slots: make room
        }
        pools[free] = pool;
        return free;
    }

    /** Gives every gathered page back. */
    void flush() {
        for (int i = 0; i < POOLS; i++) {
            if (counts[i] > 0) {
                flush(i);
            }
        }
    }

    private void flush(int slot) {
        int n = counts[slot];
        counts[slot] = 0;
        try {
            pools[slot].release(pages[slot], generations[slot], n);
        } catch (RuntimeException e) {
            // The pool refused some (a bug of ours: counted by the pool as bad releases) and took the rest back.
            LOG.log(System.Logger.Level.ERROR, "releasing " + n + " pages to pool " + pools[slot].id() + " failed", e);
        }
        Arrays.fill(pages[slot], 0, n, null);
        pools[slot] = null;
    }
}

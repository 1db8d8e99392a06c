package pagepool.driver.sim;

import pagepool.api.Netmem;
import pagepool.api.PagePool;

/**
 * The tokens a socket hands out for frags in device memory (the kernel's
 * {@code SCM_DEVMEM_DMABUF}: buffer, offset, size, token) and takes back in batches
 * ({@code SO_DEVMEM_DONTNEED}). A token is only good at the socket that gave it, and once: a
 * foreign or repeated token is refused, counted, and changes nothing. Closing the socket gives
 * back every token still out. Not thread-safe: one socket thread owns it.
 */
final class TokenTable {

    /** At most this many tokens per return call, as {@code SO_DEVMEM_DONTNEED}. */
    static final int MAX_PER_CALL = 128;

    private final int tableId;
    private final Netmem[] netmems;
    private final PagePool[] pools;
    private final SimQueue[] queues;
    private final int[] generation;
    private final int[] freeSlots;
    private int freeTop;
    long rejected;
    long returned;

    TokenTable(int tableId, int capacity) {
        this.tableId = tableId & 0xFFFF;
        this.netmems = new Netmem[capacity];
        this.pools = new PagePool[capacity];
        this.queues = new SimQueue[capacity];
        this.generation = new int[capacity];
        this.freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            freeSlots[i] = capacity - 1 - i;
        }
        freeTop = capacity;
    }

    /** A token for a received frag, or -1 when the table is full (the caller frees the frag). */
    long give(Netmem netmem, PagePool pool, SimQueue queue) {
        if (freeTop == 0) {
            return -1;
        }
        int slot = freeSlots[--freeTop];
        netmems[slot] = netmem;
        pools[slot] = pool;
        queues[slot] = queue;
        if (queue != null) {
            queue.tokensOut.incrementAndGet();
        }
        return ((long) tableId << 48) | ((long) (generation[slot] & 0xFFFF) << 32) | slot;
    }

    /**
     * Gives frags back by token.
     *
     * @return how many tokens were good
     * @throws IllegalArgumentException for more than {@value #MAX_PER_CALL} tokens; none is taken then
     */
    int dontneed(long[] tokens, int count) {
        if (count < 0 || count > MAX_PER_CALL || count > tokens.length) {
            throw new IllegalArgumentException("tokens: " + count + " (expected: at most " + MAX_PER_CALL
                    + " per call, as SO_DEVMEM_DONTNEED)");
        }
        int good = 0;
        for (int i = 0; i < count; i++) {
            long t = tokens[i];
            int slot = (int) (t & 0xFFFFFFFFL);
            if ((t >>> 48) != tableId || slot < 0 || slot >= netmems.length || netmems[slot] == null
                    || ((t >>> 32) & 0xFFFF) != (generation[slot] & 0xFFFF)) {
                rejected++;
                continue;
            }
            free(slot);
            good++;
        }
        returned += good;
        return good;
    }

    private void free(int slot) {
        Netmem nm = netmems[slot];
        PagePool pool = pools[slot];
        if (queues[slot] != null) {
            queues[slot].tokensOut.decrementAndGet();
        }
        netmems[slot] = null;
        pools[slot] = null;
        queues[slot] = null;
        generation[slot]++;
        freeSlots[freeTop++] = slot;
        pool.release(nm);
    }

    /** Tokens still out. */
    int outstanding() {
        return netmems.length - freeTop;
    }

    /** The socket closes: every frag still out goes back. */
    int close() {
        int n = 0;
        for (int slot = 0; slot < netmems.length; slot++) {
            if (netmems[slot] != null) {
                free(slot);
                n++;
            }
        }
        return n;
    }
}

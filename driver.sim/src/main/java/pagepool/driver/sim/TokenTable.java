package pagepool.driver.sim;

import java.security.SecureRandom;
import java.util.SplittableRandom;

import pagepool.api.Checks;
import pagepool.api.Netmem;
import pagepool.api.PagePool;

/**
 * The tokens a socket hands out for frags in device memory (the kernel's
 * {@code SCM_DEVMEM_DMABUF}: buffer, offset, size, token) and takes back in batches
 * ({@code SO_DEVMEM_DONTNEED}). A token is only good at the socket that gave it, and once: a
 * foreign, repeated or made-up token is refused, counted, and changes nothing. Closing the socket
 * gives back every token still out. Not thread-safe: one socket thread owns it.
 *
 * <p>A token is the slot in its low {@value #SLOT_BITS} bits and {@value #TAG_BITS} random bits
 * drawn afresh each time the slot is handed out, from a generator seeded per table; the table
 * keeps the whole token per slot and takes back only an exact match. So a token from another
 * socket or device, or an old token of a reused slot, matches by chance only, with probability
 * 2^-{@value #TAG_BITS}, and no count wraps around.
 */
final class TokenTable {

    /** At most this many tokens per return call, as {@code SO_DEVMEM_DONTNEED}. */
    static final int MAX_PER_CALL = 128;
    static final int SLOT_BITS = 20;
    static final int TAG_BITS = 63 - SLOT_BITS;
    private static final long SLOT_MASK = (1L << SLOT_BITS) - 1;

    private final Netmem[] netmems;
    private final PagePool[] pools;
    private final int[] generations;
    private final SimQueue[] queues;
    /** The token each slot was last handed out under; 0 while free. */
    private final long[] issued;
    private final int[] freeSlots;
    private final SplittableRandom tags;
    private int freeTop;
    long rejected;
    long returned;

    TokenTable(int capacity) {
        Checks.inRange("capacity", capacity, 1, 1 << SLOT_BITS);
        this.netmems = new Netmem[capacity];
        this.pools = new PagePool[capacity];
        this.generations = new int[capacity];
        this.queues = new SimQueue[capacity];
        this.issued = new long[capacity];
        this.freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            freeSlots[i] = capacity - 1 - i;
        }
        freeTop = capacity;
        this.tags = new SplittableRandom(new SecureRandom().nextLong());
    }

    /** A token for a received frag, or -1 when the table is full (the caller frees the frag). */
    long give(Netmem netmem, PagePool pool, int generation, SimQueue queue) {
        if (freeTop == 0) {
            return -1;
        }
        int slot = freeSlots[--freeTop];
        netmems[slot] = netmem;
        pools[slot] = pool;
        generations[slot] = generation;
        queues[slot] = queue;
        if (queue != null) {
            queue.counters().addShared(SimCounter.TOKENS_OUT, 1);
        }
        long tag;
        do {
            tag = tags.nextLong() & (Long.MAX_VALUE & ~SLOT_MASK);
        } while (tag == 0);
        long token = tag | slot;
        issued[slot] = token;
        return token;
    }

    /**
     * Gives frags back by token.
     *
     * @return how many tokens were good
     * @throws IllegalArgumentException for more than {@value #MAX_PER_CALL} tokens; none is taken then
     */
    int dontneed(long[] tokens, int count) {
        if (count < 0 || count > MAX_PER_CALL || count > tokens.length) {
            throw Checks.invalid("tokens", count, "at most " + MAX_PER_CALL + " per call, as SO_DEVMEM_DONTNEED");
        }
        int good = 0;
        for (int i = 0; i < count; i++) {
            long t = tokens[i];
            int slot = (int) (t & SLOT_MASK);
            if (t <= 0 || slot >= netmems.length || issued[slot] != t) {
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
        int generation = generations[slot];
        if (queues[slot] != null) {
            queues[slot].counters().addShared(SimCounter.TOKENS_OUT, -1);
        }
        netmems[slot] = null;
        pools[slot] = null;
        queues[slot] = null;
        issued[slot] = 0;
        freeSlots[freeTop++] = slot;
        try {
            pool.release(nm, generation);
        } catch (RuntimeException e) {
            // The pool refused it and counted why; the token is spent either way.
        }
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

package pagepool.tck;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * The memory the driver kit gives a driver: ordinary off-heap pages (one slab of the pool's size
 * when it asks for contiguous pages), with a ledger of pools and pages the kit reads — how many
 * pages are out, whether every pool made was destroyed.
 */
final class LedgerProvider implements MemoryProvider {

    static final String NAME = "tck-ledger";
    private static final int SLAB = 64;

    final AtomicLong pagesOut = new AtomicLong();
    final AtomicLong inits = new AtomicLong();
    final AtomicLong destroys = new AtomicLong();
    /** While true, a pool that has handed out nothing yet gets nothing: a provider out of memory for new pools. */
    volatile boolean dry;

    private static final class Memory {
        final Arena arena = Arena.ofShared();
        final ArrayDeque<Netmem> free = new ArrayDeque<>();
        boolean carvedContiguous;
        long handedOut;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ProviderCapabilities capabilities() {
        return ProviderCapabilities.hostPages();
    }

    @Override
    public void init(PoolContext pool) throws ProviderRefusedException {
        inits.incrementAndGet();
        pool.attach(new Memory());
    }

    @Override
    public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        Memory m = (Memory) pool.attachment();
        synchronized (m) {
            if (dry && m.handedOut == 0) {
                return 0;
            }
            if (m.free.isEmpty()) {
                int contiguous = pool.params().contiguousPages();
                if (contiguous > 0 && m.carvedContiguous) {
                    return 0;
                }
                int size = pool.params().pageSize();
                int pages = contiguous > 0 ? contiguous : SLAB;
                MemorySegment slab = m.arena.allocate((long) pages * size, size);
                for (Netmem n : pool.carve(MemoryArea.readable(NAME, slab).pageShift(Integer.numberOfTrailingZeros(size))
                        .build())) {
                    m.free.add(n);
                }
                m.carvedContiguous = contiguous > 0;
            }
            int n = 0;
            while (n < max && !m.free.isEmpty()) {
                batch[n++] = m.free.poll();
            }
            pagesOut.addAndGet(n);
            m.handedOut += n;
            return n;
        }
    }

    @Override
    public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        Memory m = (Memory) pool.attachment();
        synchronized (m) {
            m.free.add(netmem);
        }
        pagesOut.decrementAndGet();
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
        destroys.incrementAndGet();
        ((Memory) pool.attachment()).arena.close();
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        return Map.of("pages-out", pagesOut.get());
    }
}

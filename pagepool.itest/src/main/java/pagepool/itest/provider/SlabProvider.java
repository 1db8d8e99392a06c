package pagepool.itest.provider;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;

/**
 * Ordinary off-heap pages in 64-page slabs, mapped at {@code iovaBase + address}. Reports per
 * pool how many pages are out and whether its memory was freed, for the tests to check.
 */
abstract class SlabProvider implements MemoryProvider {

    private final String name;
    private final long iovaBase;
    private final AtomicLong pagesOut = new AtomicLong();

    SlabProvider(String name, long iovaBase) {
        this.name = name;
        this.iovaBase = iovaBase;
    }

    private static final class PoolMemory {
        final Arena arena = Arena.ofShared();
        final ArrayDeque<Netmem> free = new ArrayDeque<>();
        long out;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ProviderCapabilities capabilities() {
        return ProviderCapabilities.hostPages();
    }

    @Override
    public void init(PoolContext pool) {
        pool.attach(new PoolMemory());
    }

    @Override
    public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        PoolMemory m = (PoolMemory) pool.attachment();
        synchronized (m) {
            if (m.free.isEmpty()) {
                int pageSize = pool.params().pageSize();
                MemorySegment slab = m.arena.allocate(64L * pageSize, pageSize);
                MemoryArea.Builder b = MemoryArea.readable(name, slab).pageShift(Integer.numberOfTrailingZeros(pageSize));
                if (iovaBase != 0) {
                    b.dmaAddress(iovaBase + slab.address());
                }
                for (Netmem nm : pool.carve(b.build())) {
                    m.free.add(nm);
                }
            }
            int n = 0;
            while (n < max && !m.free.isEmpty()) {
                batch[n++] = m.free.poll();
            }
            m.out += n;
            pagesOut.addAndGet(n);
            return n;
        }
    }

    @Override
    public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        PoolMemory m = (PoolMemory) pool.attachment();
        synchronized (m) {
            m.free.add(netmem);
            m.out--;
        }
        pagesOut.decrementAndGet();
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
        PoolMemory m = (PoolMemory) pool.attachment();
        synchronized (m) {
            if (m.out != 0) {
                throw new IllegalStateException(name + ": destroy of pool " + pool.id() + " with " + m.out + " pages out");
            }
            m.arena.close();
        }
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        PoolMemory m = (PoolMemory) pool.attachment();
        Map<String, Object> d = new LinkedHashMap<>();
        synchronized (m) {
            d.put("pages-out", m.out);
        }
        d.put("provider-pages-out", pagesOut.get());
        return d;
    }
}

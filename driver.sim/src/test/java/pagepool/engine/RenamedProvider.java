package pagepool.engine;

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

/**
 * A second provider for tests: ordinary pages under another name, optionally mapped at IOVAs
 * above what the NIC can reach (to make a queue start fail). Counts pages out, per provider.
 */
class RenamedProvider implements MemoryProvider {

    final AtomicLong out = new AtomicLong();
    final AtomicLong destroyed = new AtomicLong();
    private final String name;
    private final long iovaBase;

    RenamedProvider(String name, long iovaBase) {
        this.name = name;
        this.iovaBase = iovaBase;
    }

    private static final class PoolMemory {
        final Arena arena = Arena.ofShared();
        final ArrayDeque<Netmem> free = new ArrayDeque<>();
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
            out.addAndGet(n);
            return n;
        }
    }

    @Override
    public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        PoolMemory m = (PoolMemory) pool.attachment();
        synchronized (m) {
            m.free.add(netmem);
        }
        out.decrementAndGet();
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
        ((PoolMemory) pool.attachment()).arena.close();
        destroyed.incrementAndGet();
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        return Map.of("out", out.get());
    }
}

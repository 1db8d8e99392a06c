package pagepool.itest.provider;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * {@code eagermem}: a provider that frees its memory when its component deactivates, pages out or
 * not — the one that breaks "removing a provider never frees memory under a reader", for the
 * conformance kit to catch. Active only with a configuration ({@code pagepool.itest.eagermem}).
 */
@Component(service = MemoryProvider.class, configurationPid = "pagepool.itest.eagermem",
        configurationPolicy = ConfigurationPolicy.REQUIRE, property = MemoryProvider.NAME + "=eagermem")
public final class EagerFreeMemoryProvider implements MemoryProvider {

    private static final int PAGES = 256;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory = arena.allocate((long) PAGES * 4096, 4096);
    private final ArrayDeque<Netmem> free = new ArrayDeque<>();
    private boolean carved;

    /** The fault under test: the memory goes with the component, whatever pools still hold. */
    @Deactivate
    void deactivate() {
        arena.close();
    }

    @Override
    public String name() {
        return "eagermem";
    }

    @Override
    public ProviderCapabilities capabilities() {
        return ProviderCapabilities.hostPages();
    }

    @Override
    public synchronized void init(PoolContext pool) throws ProviderRefusedException {
        if (pool.params().order() != 0 || pool.params().contiguousPages() > 0) {
            throw new ProviderRefusedException("order " + pool.params().order() + ", contiguousPages "
                    + pool.params().contiguousPages() + " (expected: 0 and 0)");
        }
        if (!carved) {
            for (Netmem n : pool.carve(MemoryArea.readable("eagermem", memory).build())) {
                free.add(n);
            }
            carved = true;
        }
    }

    @Override
    public synchronized int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        int n = 0;
        while (n < max && !free.isEmpty()) {
            batch[n++] = free.poll();
        }
        return n;
    }

    @Override
    public synchronized boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        free.add(netmem);
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
    }

    @Override
    public synchronized Map<String, Object> describe(PoolContext pool) {
        return Map.of("pages-free", free.size());
    }
}

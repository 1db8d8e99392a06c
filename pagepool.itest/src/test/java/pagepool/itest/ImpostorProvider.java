package pagepool.itest;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/** A provider that borrows another's name and only counts the pools it is asked to set up, refusing them. */
final class ImpostorProvider implements MemoryProvider {

    final AtomicInteger inits = new AtomicInteger();
    private final String name;

    ImpostorProvider(String name) {
        this.name = name;
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
    public void init(PoolContext pool) throws ProviderRefusedException {
        inits.incrementAndGet();
        throw new ProviderRefusedException("an impostor");
    }

    @Override
    public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        return 0;
    }

    @Override
    public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        return Map.of();
    }
}

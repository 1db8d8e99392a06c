package pagepool.api.provider;

import pagepool.api.Checks;
import pagepool.api.PoolParams;

/**
 * What a provider can do, checked by the pool before {@link MemoryProvider#init}.
 *
 * @param readable whether the CPU can read the provider's pages
 * @param maxOrder the highest page order it can allocate
 * @param needsDmaMap pools must have {@link PoolParams#DMA_MAP}
 * @param needsDmaSync pools must have {@link PoolParams#DMA_SYNC_DEV}
 */
public record ProviderCapabilities(boolean readable, int maxOrder, boolean needsDmaMap, boolean needsDmaSync) {

    public ProviderCapabilities {
        Checks.inRange("maxOrder", maxOrder, 0, PoolParams.MAX_ORDER);
    }

    /** Readable memory of any order, no DMA requirements: ordinary pages. */
    public static ProviderCapabilities hostPages() {
        return new ProviderCapabilities(true, PoolParams.MAX_ORDER, false, false);
    }
}

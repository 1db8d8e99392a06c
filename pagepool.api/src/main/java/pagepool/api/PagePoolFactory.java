package pagepool.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Creates page pools for drivers ({@code page_pool_create}). The memory behind a pool is the
 * provider bound to {@link PoolParams#queue()} by configuration, or the default provider: the
 * driver never names one.
 */
@ProviderType
public interface PagePoolFactory {

    /**
     * @throws IllegalArgumentException when the provider cannot serve these parameters (it needs
     *         DMA mapping, cannot do the order, is unreadable for a pool without
     *         {@link PoolParams#ALLOW_UNREADABLE_NETMEM}, or refused in its init), with its reason
     * @throws IllegalStateException when no provider is available
     */
    PagePool create(PoolParams params);

    /** Every pool not yet destroyed, detached ones included. */
    List<PoolInfo> pools();
}

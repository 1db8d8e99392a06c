package pagepool.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Creates page pools for drivers ({@code page_pool_create}). The memory behind a pool is the
 * provider bound to {@link PoolParams#queue()} by configuration, or the default provider: the
 * driver never names one.
 *
 * <p>Bundle-scoped: a pool for a queue is created only for the driver that registered the
 * queue's device, since the queue's memory (device memory, in particular) is that driver's alone.
 * A pool without a queue may be created by anyone and gets the default provider.
 */
@ProviderType
public interface PagePoolFactory {

    /**
     * @throws IllegalArgumentException when the provider cannot serve these parameters (it needs
     *         DMA mapping, cannot do the order, is unreadable for a pool without
     *         {@link PoolParams#ALLOW_UNREADABLE_NETMEM}, or refused in its init), with its reason
     * @throws IllegalArgumentException for a queue of a device that is not registered, an index
     *         beyond its queues, or a device another bundle registered
     * @throws IllegalStateException when no provider is available, or the provider failed (threw)
     *         in its init; the failure is counted against the provider
     */
    PagePool create(PoolParams params);

    /** Every pool not yet destroyed, detached ones included. */
    List<PoolInfo> pools();
}

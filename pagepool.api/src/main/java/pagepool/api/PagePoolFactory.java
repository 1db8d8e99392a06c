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

    /**
     * Reserves what a device configuration commits (its rings' pages, sized before anything is
     * built) against the engine-wide memory budget ({@code memory.budget.bytes} of the engine),
     * so a configuration that does not fit is refused up front instead of exhausting the host.
     * One reservation per key and calling bundle: a new one replaces the old (a rebuilt device),
     * 0 releases it; all go when the bundle stops.
     *
     * @param key what the reservation is for, e.g. the device's configuration PID
     * @throws IllegalArgumentException when {@code bytes} is negative or does not fit: the message
     *         names the bytes asked, the budget and what others hold; the old reservation stays
     * @since 1.3
     */
    void reserve(String key, long bytes);
}

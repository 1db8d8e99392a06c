package pagepool.api.provider;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

import pagepool.api.Netmem;
import pagepool.api.QueueId;

/**
 * Where a page pool's memory comes from ({@code struct memory_provider_ops}). One provider
 * serves many pools; per-pool state goes in {@link PoolContext#attach}.
 *
 * <p>Calls for one pool come from one thread at a time for init, alloc and destroy;
 * {@link #releaseNetmem} may come from any thread, concurrently with alloc.
 *
 * <p>A provider is a plugin, and the pool treats it as one: every call into it is guarded, and
 * whatever it throws (an exception or an error) is counted as a fault of that call, per pool and
 * per provider, without harming the pool's accounting: an {@code allocNetmems} that throws gave
 * nothing, a {@code releaseNetmem} that throws still got its page back, a {@code destroy} that
 * throws still ends the pool. The engine moves a queue whose provider faulted to the default
 * provider, and quarantines a provider that keeps faulting. Only {@link ProviderRefusedException}
 * from {@link #init} is an answer rather than a fault.
 */
@ConsumerType
public interface MemoryProvider {

    /** Service property: the provider's name, e.g. {@code heap}. Must equal {@link #name()}. */
    String NAME = "provider.name";

    /** Service property: true when the provider may serve queues that have no binding. */
    String DEFAULT = "provider.default";

    /**
     * Service property: true when only the bundle that registered the provider may bind queues to
     * it, as a device-memory binding owns the queues it was made for.
     */
    String PRIVATE = "provider.private";

    String name();

    /** What the provider can do; constant over its life. */
    ProviderCapabilities capabilities();

    /**
     * A pool is being created on this provider.
     *
     * @throws ProviderRefusedException when it cannot serve this pool, with the reason
     */
    void init(PoolContext pool) throws ProviderRefusedException;

    /**
     * Fills {@code batch[0..n)} with free pages ({@code alloc_netmems}). Pages come from
     * {@link PoolContext#carve} of the provider's own areas.
     *
     * @param max at most this many, at least 1
     * @return how many were filled; 0 when the provider has no memory now
     */
    int allocNetmems(PoolContext pool, Netmem[] batch, int max);

    /**
     * The pool gives a page back ({@code release_netmem}).
     *
     * @return true when the page leaves for good (its memory goes back to the system, Linux's
     *         {@code put_page}): the pool forgets it, and refuses it as a fault if it is ever
     *         handed out again; false when the provider keeps it for later allocations
     */
    boolean releaseNetmem(PoolContext pool, Netmem netmem);

    /** The pool is destroyed and every page it took is back ({@code destroy}). */
    void destroy(PoolContext pool);

    /** What the provider reports about a pool for introspection ({@code nl_fill}). */
    Map<String, Object> describe(PoolContext pool);

    /** The queue no longer uses this provider ({@code uninstall}). */
    default void uninstall(QueueId queue) {
    }
}

package pagepool.api;

import java.time.Instant;
import java.util.Map;

/**
 * Introspection of one pool, as netlink {@code page-pool-get} reports it, plus the pool's
 * accounting.
 *
 * @param id pool id, unique in the running system
 * @param queue the RX queue the pool serves, or null
 * @param provider name of the memory provider behind the pool
 * @param state where the pool is in its life
 * @param inflight pages that entered the pool and have not gone back to the provider
 *        ({@code hold_count - release_count}; includes pages resting in the cache and ring)
 * @param inflightBytes {@code inflight} times the page size
 * @param holdCount pages that entered the pool from the provider
 * @param releaseCount pages the pool gave back to the provider
 * @param detachTime when {@link PagePool#close()} found pages in flight, or null
 * @param stalled a detached pool that has waited longer than the configured stall time
 * @param badReleases releases rejected with {@link BadReleaseException}, and double releases of
 *        fragments found when their page was finished
 * @param faults what the provider threw while serving this pool
 * @param providerInfo what the provider reports about this pool (the kernel's {@code nl_fill})
 * @param stats the pool's counters ({@code page-pool-stats-get})
 */
public record PoolInfo(int id, QueueId queue, String provider, State state, long inflight, long inflightBytes,
        long holdCount, long releaseCount, Instant detachTime, boolean stalled, long badReleases,
        ProviderFaults faults, Map<String, Object> providerInfo, PoolStats stats) {

    public PoolInfo {
        faults = faults == null ? ProviderFaults.NONE : faults;
    }

    /** Life of a pool. */
    public enum State {
        /** Serving its queue. */
        ACTIVE,
        /** Closed with pages in flight: waits for them before the provider's destroy runs. */
        DETACHED,
        /** Closed and every page returned; the provider's memory is released. */
        DESTROYED
    }
}

package pagepool.api.control;

import java.time.Instant;
import java.util.Map;

import pagepool.api.PoolInfo;
import pagepool.api.PoolStats;
import pagepool.api.ProviderFaults;
import pagepool.api.QueueId;

/**
 * A page pool as {@code ynl page-pool-get} shows it, with what it carries and its accounting.
 *
 * @param id pool id
 * @param queue the queue it serves, or null
 * @param role {@code data} for the one pool of a queue, {@code payload} and {@code header} for the
 *        two of a header-split queue, null for a pool no queue runs on (detached)
 * @param provider its memory provider
 * @param state where it is in its life
 * @param inflight pages out of the provider ({@code inflight} in YNL)
 * @param inflightMem their bytes ({@code inflight-mem})
 * @param pagesTaken pages it took from its provider (the kernel's {@code hold_cnt})
 * @param pagesReturned pages it gave back ({@code release_cnt})
 * @param detachTime when it was closed with pages in flight, or null ({@code detach-time})
 * @param stalled detached for longer than the configured stall time
 * @param badReleases releases it refused: double, stale, foreign
 * @param faults what its provider threw
 * @param providerInfo what its provider reports (e.g. {@code dmabuf}, {@code io-uring})
 * @param stats its {@code page-pool-stats-get} counters
 */
public record Pool(int id, QueueId queue, String role, String provider, PoolInfo.State state, long inflight,
        long inflightMem, long pagesTaken, long pagesReturned, Instant detachTime, boolean stalled, long badReleases,
        ProviderFaults faults, Map<String, Object> providerInfo, PoolStats stats) {

    public Pool {
        providerInfo = providerInfo == null ? java.util.Map.of()
                : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(providerInfo));
    }

    /** The pool as the engine reports it, with the role its queue gives it. */
    public static Pool of(PoolInfo p, String role) {
        return new Pool(p.id(), p.queue(), role, p.provider(), p.state(), p.inflight(), p.inflightBytes(),
                p.holdCount(), p.releaseCount(), p.detachTime(), p.stalled(), p.badReleases(), p.faults(),
                p.providerInfo(), p.stats());
    }
}

package pagepool.api;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A snapshot of a pool's counters, named as netlink {@code page-pool-stats-get} names them.
 *
 * @param allocFast pages taken from the NAPI-owned cache
 * @param allocSlow order-0 slow-path allocations from the provider (one per batch)
 * @param allocSlowHighOrder slow-path allocations of higher-order pages
 * @param allocEmpty refill attempts that found the recycle ring empty
 * @param allocRefill refills of the cache from the recycle ring
 * @param allocWaive pages from the ring given back because they sat on another node
 * @param recycleCached pages recycled directly into the cache
 * @param recycleCacheFull direct recycles that found the cache full
 * @param recycleRing pages recycled into the ring
 * @param recycleRingFull recycles that found the ring full (page returned to the provider)
 * @param recycleReleasedRefcnt pages released instead of recycled because they were not recyclable
 */
public record PoolStats(long allocFast, long allocSlow, long allocSlowHighOrder, long allocEmpty, long allocRefill,
        long allocWaive, long recycleCached, long recycleCacheFull, long recycleRing, long recycleRingFull,
        long recycleReleasedRefcnt) {

    /** The counters under their netlink attribute names, in netlink order. */
    public Map<String, Long> toMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("alloc-fast", allocFast);
        m.put("alloc-slow", allocSlow);
        m.put("alloc-slow-high-order", allocSlowHighOrder);
        m.put("alloc-empty", allocEmpty);
        m.put("alloc-refill", allocRefill);
        m.put("alloc-waive", allocWaive);
        m.put("recycle-cached", recycleCached);
        m.put("recycle-cache-full", recycleCacheFull);
        m.put("recycle-ring", recycleRing);
        m.put("recycle-ring-full", recycleRingFull);
        m.put("recycle-released-refcnt", recycleReleasedRefcnt);
        return m;
    }
}

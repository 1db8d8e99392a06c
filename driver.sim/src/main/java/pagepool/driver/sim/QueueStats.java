package pagepool.driver.sim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One queue's counters at a moment, as {@link SimDevice#queueStats} reports them (the names of
 * {@link #toMap()} are what {@code pp:devstats} shows).
 *
 * @param generated packets the wire offered the queue
 * @param packets packets delivered to a consumer
 * @param bytes their bytes
 * @param dropsNoBuffer dropped for an empty RX ring (or no header buffer)
 * @param dropsStopped dropped while the queue was stopped
 * @param dropsBacklog dropped at a full socket backlog
 * @param dropsFailed dropped because the queue failed, or its device memory did
 * @param backpressure times a full socket made the sender hold back (its packets stayed on the wire)
 * @param errors unexpected errors met by NAPI or a socket thread
 * @param allocFailures ring refills the pool could not serve
 * @param restarts starts after the first
 * @param verified delivered packets whose every byte was checked
 * @param corrupt delivered packets that were not what the wire sent
 * @param devmemFrags device-memory frags handed to applications
 * @param tokensOut of those, the ones still held
 * @param iotlbLookups IOMMU translations of DMA writes
 * @param iotlbMisses of those, the ones that missed the IOTLB
 * @param poolId the data pool the queue runs on, or 0
 * @param napiId the id of its NAPI context
 * @param heldPages pages held outside the queue (pp_hold)
 */
record QueueStats(long generated, long packets, long bytes, long dropsNoBuffer, long dropsStopped, long dropsBacklog,
        long dropsFailed, long backpressure, long errors, long allocFailures, long restarts, long verified, long corrupt,
        long devmemFrags, long tokensOut, long iotlbLookups, long iotlbMisses, long poolId, long napiId,
        long heldPages) {

    long drops() {
        return dropsNoBuffer + dropsStopped + dropsBacklog + dropsFailed;
    }

    Map<String, Long> toMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("generated", generated);
        m.put("packets", packets);
        m.put("bytes", bytes);
        m.put("drops", drops());
        m.put("drops-no-buffer", dropsNoBuffer);
        m.put("drops-stopped", dropsStopped);
        m.put("drops-backlog", dropsBacklog);
        m.put("drops-failed", dropsFailed);
        m.put("backpressure", backpressure);
        m.put("errors", errors);
        m.put("alloc-fail", allocFailures);
        m.put("restarts", restarts);
        m.put("verified", verified);
        m.put("corrupt", corrupt);
        m.put("devmem-frags", devmemFrags);
        m.put("tokens-out", tokensOut);
        m.put("iotlb-lookups", iotlbLookups);
        m.put("iotlb-misses", iotlbMisses);
        m.put("pool-id", poolId);
        m.put("napi-id", napiId);
        m.put("held-pages", heldPages);
        return m;
    }
}

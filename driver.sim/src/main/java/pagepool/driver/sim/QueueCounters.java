package pagepool.driver.sim;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One queue's counters. The plain ones are written by the queue's NAPI thread only; the atomic
 * ones by the control thread, the socket threads and token owners. Readers see them a little late.
 */
final class QueueCounters {

    // The NAPI thread's.
    long generated;
    long delivered;
    long bytes;
    long dropsNoBuffer;
    long dropsStopped;
    long dropsBacklog;
    long dropsFailed;
    long allocFailures;
    long verifiedInNapi;
    long corruptInNapi;
    /** Times a full socket made the sender hold back (socket.backpressure). */
    long backpressure;
    // Everyone else's.
    final AtomicLong restarts = new AtomicLong();
    final AtomicLong verifiedBySocket = new AtomicLong();
    final AtomicLong corruptBySocket = new AtomicLong();
    /** Unexpected errors met by the NAPI loop or the socket thread on this queue's packets. */
    final AtomicLong errors = new AtomicLong();
    /** Device-memory frags of this queue held by applications as tokens. */
    final AtomicLong tokensOut = new AtomicLong();
    /** Device-memory frags delivered to applications as descriptors (buffer, offset, size, token). */
    final AtomicLong devmemFrags = new AtomicLong();
    volatile String lastCorruption = "";

    /** A consumer found a packet corrupt; NAPI thread, or a socket thread ({@code bySocket}). */
    void corrupt(String what, boolean bySocket) {
        if (bySocket) {
            corruptBySocket.incrementAndGet();
        } else {
            corruptInNapi++;
        }
        lastCorruption = what;
    }

    /** The counters now, with what the queue's memory, IOTLB and NAPI context say. */
    QueueStats snapshot(Iotlb iotlb, long poolId, long napiId, long heldPages) {
        return new QueueStats(generated, delivered, bytes, dropsNoBuffer, dropsStopped, dropsBacklog, dropsFailed,
                backpressure, errors.get(), allocFailures, restarts.get(), verifiedInNapi + verifiedBySocket.get(),
                corruptInNapi + corruptBySocket.get(), devmemFrags.get(), tokensOut.get(), iotlb.lookups, iotlb.misses,
                poolId, napiId, heldPages);
    }
}

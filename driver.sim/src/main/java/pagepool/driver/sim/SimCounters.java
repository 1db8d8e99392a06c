package pagepool.driver.sim;

import pagepool.kit.driver.QueueCounters;

/**
 * The simulated queue's counters, as {@code pp:devstats} shows them. NAPI counts into the kit's
 * {@link QueueCounters} plainly and publishes once per poll; socket threads and token owners
 * count the same names atomically.
 */
final class SimCounters {

    /** Packets the wire offered the queue. */
    static final int GENERATED = 0;
    /** Packets delivered to a consumer, and their bytes. */
    static final int PACKETS = 1;
    static final int BYTES = 2;
    /** The sum of the four drops below; filled in when the counters are read. */
    static final int DROPS = 3;
    /** For an empty RX ring (or no header buffer). */
    static final int DROPS_NO_BUFFER = 4;
    /** While the queue was stopped. */
    static final int DROPS_STOPPED = 5;
    /** At a full socket backlog. */
    static final int DROPS_BACKLOG = 6;
    /** Because the queue failed, or its device memory did. */
    static final int DROPS_FAILED = 7;
    /** Times a full socket made the sender hold back (its packets stayed on the wire). */
    static final int BACKPRESSURE = 8;
    static final int ERRORS = 9;
    /** Ring refills the pool could not serve. */
    static final int ALLOC_FAIL = 10;
    static final int RESTARTS = 11;
    /** Delivered packets whose every byte was checked, and those that were not what the wire sent. */
    static final int VERIFIED = 12;
    static final int CORRUPT = 13;
    /** Device-memory frags handed to applications, and of those the ones still held. */
    static final int DEVMEM_FRAGS = 14;
    static final int TOKENS_OUT = 15;

    private SimCounters() {
    }

    static QueueCounters create() {
        return new QueueCounters("generated", "packets", "bytes", "drops", "drops-no-buffer", "drops-stopped",
                "drops-backlog", "drops-failed", "backpressure", QueueCounters.ERRORS, "alloc-fail",
                QueueCounters.RESTARTS, "verified", "corrupt", "devmem-frags", "tokens-out");
    }
}

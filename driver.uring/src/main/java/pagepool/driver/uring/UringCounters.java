package pagepool.driver.uring;

import pagepool.kit.driver.QueueCounters;

/**
 * A UDP queue's counters, as {@code pp:devstats} shows them: the kit's {@link QueueCounters},
 * counted by the queue's thread and published once per batch of completions.
 */
final class UringCounters {

    static final int PACKETS = 0;
    static final int BYTES = 1;
    /** The kernel's drops for the queue's socket; filled in when the counters are read. */
    static final int DROPS = 2;
    static final int VERIFIED = 3;
    static final int CORRUPT = 4;
    static final int UNVERIFIABLE = 5;
    static final int TRUNCATED = 6;
    static final int DELIVERED = 7;
    static final int CONSUMER_ERRORS = 8;
    static final int KEPT = 9;
    static final int NO_BUFFER = 10;
    static final int ALLOC_FAIL = 11;
    static final int RECEIVE_ERRORS = 12;
    static final int ERRORS = 13;
    static final int RESTARTS = 14;
    static final int REARMS = 15;
    static final int POLLS = 16;
    static final int GRO_BUFFERS = 17;
    /** Completions the kernel dropped for a full completion queue (its {@code cq.overflow}). */
    static final int CQ_OVERFLOW = 18;
    /** The wait for a batch now: fixed, or as the adaptive policy chose it. */
    static final int MODERATION_USECS = 19;

    private UringCounters() {
    }

    static QueueCounters create() {
        return new QueueCounters("packets", "bytes", "drops", "verified", "corrupt", "unverifiable", "truncated",
                "delivered", "consumer-errors", "kept", "no-buffer", "alloc-fail", "receive-errors",
                QueueCounters.ERRORS, QueueCounters.RESTARTS, "rearms", "polls", "gro-buffers", "cq-overflow",
                "moderation-usecs");
    }
}

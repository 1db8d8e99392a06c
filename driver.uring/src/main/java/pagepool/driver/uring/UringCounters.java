package pagepool.driver.uring;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One queue's counters. Only the queue's thread writes them, as plain longs (no atomic add on the
 * receive path); it then publishes the batch with one volatile write, and readers on other threads
 * read that first, so they see every count up to the last batch.
 */
final class UringCounters {

    static final int PACKETS = 0;
    static final int BYTES = 1;
    static final int VERIFIED = 2;
    static final int CORRUPT = 3;
    static final int UNVERIFIABLE = 4;
    static final int TRUNCATED = 5;
    static final int DELIVERED = 6;
    static final int CONSUMER_ERRORS = 7;
    static final int KEPT = 8;
    static final int NO_BUFFER = 9;
    static final int ALLOC_FAIL = 10;
    static final int RECEIVE_ERRORS = 11;
    static final int ERRORS = 12;
    static final int RESTARTS = 13;
    static final int REARMS = 14;
    static final int POLLS = 15;
    static final int GRO_BUFFERS = 16;
    /** Completions the kernel dropped for a full completion queue (its {@code cq.overflow}). */
    static final int CQ_OVERFLOW = 17;
    /** What {@code pp:devstats} calls each counter, in order. */
    private static final String[] NAMES = {"packets", "bytes", "verified", "corrupt", "unverifiable", "truncated",
        "delivered", "consumer-errors", "kept", "no-buffer", "alloc-fail", "receive-errors", "errors", "restarts",
        "rearms", "polls", "gro-buffers", "cq-overflow"};

    private final long[] counts = new long[NAMES.length];
    private volatile long batches;

    /** Queue thread only. */
    void add(int counter, long n) {
        counts[counter] += n;
    }

    /** Queue thread only: a count the kernel keeps, copied. */
    void set(int counter, long value) {
        counts[counter] = value;
    }

    /** Queue thread only: makes the counts so far visible to {@link #toMap} on other threads. */
    void publish() {
        batches = batches + 1;
    }

    Map<String, Long> toMap() {
        @SuppressWarnings("unused") // its volatile read orders the plain reads below after the last publish
        long published = batches;
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < NAMES.length; i++) {
            m.put(NAMES[i], counts[i]);
        }
        return m;
    }
}

package pagepool.api.binding;

import java.util.List;

/**
 * How long queue restarts took, since the engine started: a histogram of the time from the start
 * of a restart until the queue ran on its new memory ({@code memAlloc}, then the swap, or the stop
 * and start) — the product's headline number. Restarts that failed are counted apart and not in
 * the histogram.
 *
 * @param boundsNanos the buckets' upper bounds (inclusive), ascending
 * @param counts restarts per bucket: {@code counts.get(i)} took at most {@code boundsNanos.get(i)}
 *        and more than the bound before; the last, one more than the bounds, took longer than all
 * @param sumNanos the time of all counted restarts together
 * @param hitless restarts that switched a running queue without stopping it
 * @param failed restarts that did not leave the queue on its new memory
 */
public record RestartLatency(List<Long> boundsNanos, List<Long> counts, long sumNanos, long hitless, long failed) {

    public RestartLatency {
        boundsNanos = List.copyOf(boundsNanos);
        counts = List.copyOf(counts);
        if (counts.size() != boundsNanos.size() + 1) {
            throw new IllegalArgumentException("counts: " + counts.size() + " (expected: " + (boundsNanos.size() + 1)
                    + ", a bucket per bound and one beyond)");
        }
    }

    /** Restarts counted in the histogram. */
    public long count() {
        long n = 0;
        for (long c : counts) {
            n += c;
        }
        return n;
    }
}

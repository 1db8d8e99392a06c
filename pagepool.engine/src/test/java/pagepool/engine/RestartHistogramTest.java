package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

import pagepool.api.QueueId;
import pagepool.api.binding.RestartLatency;

class RestartHistogramTest {

    private static RestartRecord restart(long allocNanos, long switchNanos, boolean done, boolean hitless) {
        return new RestartRecord(new QueueId("sim0", 1), "heap", "hugepage", done, hitless, done ? "" : "no memory",
                allocNanos, switchNanos, 1_000_000);
    }

    @Test
    void aRestartLandsInTheFirstBucketItFitsBoundsIncluded() {
        RestartHistogram h = new RestartHistogram();
        h.record(restart(4_000, 6_000, true, true)); // 10 us: on the first bound
        h.record(restart(4_000, 6_001, true, true)); // just above it
        h.record(restart(2_000_000, 1_000_000, true, false)); // 3 ms, the free time not counted
        h.record(restart(9_000_000_000L, 0, true, false)); // beyond every bound
        h.record(restart(1_000, 1_000, false, false)); // failed: counted apart
        RestartLatency l = h.snapshot();
        assertEquals(17, l.counts().size());
        assertEquals(10_000L, l.boundsNanos().get(0));
        assertEquals(List.of(1L, 1L, 0L, 0L, 0L, 0L, 0L, 0L, 1L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 1L), l.counts());
        assertEquals(4, l.count());
        assertEquals(10_000 + 10_001 + 3_000_000 + 9_000_000_000L, l.sumNanos());
        assertEquals(2, l.hitless());
        assertEquals(1, l.failed());
    }
}

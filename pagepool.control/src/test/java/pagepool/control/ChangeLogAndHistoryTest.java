package pagepool.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import pagepool.api.QueueId;
import pagepool.api.binding.Change;
import pagepool.api.binding.QueueInfo;
import pagepool.api.control.ChangeEvent;
import pagepool.api.control.QueueCounters;
import pagepool.api.control.RateSample;

class ChangeLogAndHistoryTest {

    private static final QueueId Q0 = new QueueId("sim0", 0);

    private static Change change(int pool) {
        return new Change(Instant.now(), Change.Kind.POOL_ADDED, pool, Q0, "heap", "");
    }

    @Test
    void theLogNumbersChangesKeepsTheLastAndReplaysWhatAFollowerMissed() {
        ChangeLog log = new ChangeLog(3);
        for (int i = 1; i <= 5; i++) {
            log.accept(change(i));
        }
        assertEquals(List.of(3L, 4L, 5L), log.after(0).stream().map(ChangeEvent::id).toList(), "the last 3 kept");
        assertEquals(List.of(5L), log.after(4).stream().map(ChangeEvent::id).toList());
        List<Long> followed = new ArrayList<>();
        var s = log.follow(3, e -> followed.add(e.id()));
        log.accept(change(6));
        s.close();
        log.accept(change(7));
        assertEquals(List.of(4L, 5L, 6L), followed, "the missed ones, then the new, none twice, none after close");
        assertEquals(7, log.after(6).get(0).change().pool());
    }

    private static List<QueueCounters> counters(long packets, long drops) {
        return List.of(new QueueCounters(Q0, Map.of("packets", packets, "drops", drops, "iotlb-lookups", packets,
                "iotlb-misses", packets / 2), ""));
    }

    private static final List<QueueInfo> QUEUES = List.of(new QueueInfo(Q0, "heap", 0, 1, QueueInfo.State.OK, 0, ""));

    @Test
    void ratesAreOverTheTimeMeasuredBetweenSamplesWhenEverTheyAreTaken() {
        RateHistory h = new RateHistory(10, 128);
        long s = 1_000_000_000L;
        h.sample(counters(0, 0), QUEUES, 0, Instant.now());
        assertEquals(List.of(), h.after(0), "the first sample is the baseline");
        h.sample(counters(10_000, 0), QUEUES, s, Instant.now());
        // A sample taken only 10 ms after the last, as a client's refresh at a bind would have: the
        // same 10k/s, not a spike.
        h.sample(counters(10_100, 1), QUEUES, s + s / 100, Instant.now());
        List<RateSample> all = h.after(0);
        assertEquals(List.of(1L, 2L), all.stream().map(RateSample::seq).toList());
        assertEquals(10_000, all.get(0).queues().get(0).packetsPerSecond(), 1e-6);
        assertEquals(10_000, all.get(1).queues().get(0).packetsPerSecond(), 1e-6);
        assertEquals(100, all.get(1).queues().get(0).dropsPerSecond(), 1e-6);
        assertEquals(0.5, all.get(1).queues().get(0).iotlbMissesPerPacket(), 1e-6);
        assertEquals("heap", all.get(1).queues().get(0).provider());
        assertEquals(1, h.after(1).size());
    }

    @Test
    void theHistoryKeepsTheLastSamples() {
        RateHistory h = new RateHistory(3, 128);
        for (int i = 0; i <= 5; i++) {
            h.sample(counters(i * 100L, 0), QUEUES, i * 1_000_000_000L, Instant.now());
        }
        assertEquals(List.of(3L, 4L, 5L), h.after(0).stream().map(RateSample::seq).toList());
    }
}

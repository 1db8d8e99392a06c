package pagepool.control;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import pagepool.api.QueueId;
import pagepool.api.binding.QueueInfo;
import pagepool.api.control.QueueCounters;
import pagepool.api.control.QueueRate;
import pagepool.api.control.RateSample;

/**
 * Each queue's packets, drops and IOTLB misses per second, sampled by the runtime at a fixed
 * period: a rate is the counters' difference over the time measured between the two samples, so
 * it does not depend on when or how often a client asks (a page that recomputed rates whenever an
 * event arrived drew a spike on every queue at every bind).
 */
final class RateHistory {

    private record Seen(long nanos, long packets, long drops, long lookups, long misses) {
    }

    private final int kept;
    private final int queues;
    private final ArrayDeque<RateSample> samples = new ArrayDeque<>();
    private final Map<QueueId, Seen> before = new HashMap<>();
    private long seq;

    RateHistory(int kept, int queues) {
        this.kept = kept;
        this.queues = queues;
    }

    /** Takes a sample of what the drivers and the engine say now, at {@code nanos} (System.nanoTime). */
    void sample(List<QueueCounters> counters, List<QueueInfo> info, long nanos, Instant now) {
        Map<QueueId, String> providers = new HashMap<>();
        info.forEach(q -> providers.put(q.queue(), q.provider()));
        List<QueueRate> rates = new ArrayList<>();
        Map<QueueId, Seen> seen = new HashMap<>();
        for (QueueCounters c : counters) {
            if (rates.size() == queues) {
                break;
            }
            Seen s = new Seen(nanos, get(c, "packets"), get(c, "drops"), get(c, "iotlb-lookups"), get(c, "iotlb-misses"));
            seen.put(c.queue(), s);
            Seen b;
            synchronized (this) {
                b = before.get(c.queue());
            }
            double seconds = b == null ? 0 : (nanos - b.nanos()) / 1e9;
            long packets = b == null ? 0 : Math.max(0, s.packets() - b.packets());
            rates.add(new QueueRate(c.queue(), providers.getOrDefault(c.queue(), ""),
                    seconds > 0 ? packets / seconds : 0, seconds > 0 ? Math.max(0, s.drops() - b.drops()) / seconds : 0,
                    !c.counters().containsKey("iotlb-misses") ? -1 : packets == 0 ? 0
                            : Math.max(0, s.misses() - b.misses()) / (double) packets));
        }
        synchronized (this) {
            boolean first = before.isEmpty();
            before.clear();
            before.putAll(seen);
            if (first) {
                return; // a baseline: rates start with the second sample
            }
            samples.addLast(new RateSample(++seq, now, rates));
            if (samples.size() > kept) {
                samples.removeFirst();
            }
        }
    }

    private static long get(QueueCounters c, String name) {
        Long v = c.counters().get(name);
        return v == null ? 0 : v;
    }

    synchronized List<RateSample> after(long seq) {
        List<RateSample> out = new ArrayList<>();
        for (RateSample s : samples) {
            if (s.seq() > seq) {
                out.add(s);
            }
        }
        return out;
    }
}

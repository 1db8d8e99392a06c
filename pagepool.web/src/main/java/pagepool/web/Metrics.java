package pagepool.web;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import pagepool.api.control.Pool;
import pagepool.api.QueueId;
import pagepool.api.binding.QueueInfo;

/**
 * The Prometheus text exposition format (version 0.0.4) of what pagepool counts: every pool's
 * page-pool-stats-get counters and pages in flight, every queue's restarts and its driver's
 * counters, labelled by device, queue, pool and provider. Each metric family once, with its
 * HELP and TYPE, then its samples.
 */
final class Metrics {

    private final Map<String, Family> families = new LinkedHashMap<>();

    private record Family(String type, String help, List<String> samples) {
    }

    /** A sample of {@code name}: labels in order, as name/value pairs. */
    void sample(String name, String type, String help, long value, String... labels) {
        Family f = families.computeIfAbsent(name, n -> new Family(type, help, new ArrayList<>()));
        StringBuilder b = new StringBuilder(name);
        for (int i = 0; i + 1 < labels.length; i += 2) {
            b.append(i == 0 ? "{" : ",").append(labels[i]).append("=\"").append(escape(labels[i + 1])).append('"');
        }
        f.samples().add(b.append(labels.length > 1 ? "} " : " ").append(value).toString());
    }

    void pool(Pool p) {
        String[] labels = {"pool", String.valueOf(p.id()), "device", p.queue() == null ? "" : p.queue().device(),
            "queue", p.queue() == null ? "" : String.valueOf(p.queue().index()), "provider", p.provider(),
            "state", p.state().name().toLowerCase(java.util.Locale.ROOT)};
        p.stats().toMap().forEach((k, v) -> sample("pagepool_pool_" + name(k) + "_total", "counter",
                "page-pool-stats-get " + k + " (Linux's page_pool counter of the same name)", v, labels));
        sample("pagepool_pool_inflight_pages", "gauge", "pages out of the pool: in rings, with consumers",
                p.inflight(), labels);
        sample("pagepool_pool_inflight_bytes", "gauge", "bytes of the pages out of the pool", p.inflightMem(),
                labels);
        sample("pagepool_pool_pages_taken_total", "counter", "pages the pool took from its provider (hold)",
                p.pagesTaken(), labels);
        sample("pagepool_pool_pages_returned_total", "counter", "pages the pool gave back to its provider (release)",
                p.pagesReturned(), labels);
        sample("pagepool_pool_bad_releases_total", "counter", "releases the pool refused: double, stale, foreign",
                p.badReleases(), labels);
        sample("pagepool_pool_provider_faults_total", "counter", "calls into the provider that threw or misbehaved",
                p.faults().total(), labels);
    }

    void queue(QueueInfo q, Map<String, Long> stats) {
        QueueId id = q.queue();
        String[] labels = {"device", id.device(), "queue", String.valueOf(id.index()), "provider", q.provider()};
        sample("pagepool_queue_restarts_total", "counter", "starts of the queue after its first", q.restarts(),
                labels);
        sample("pagepool_queue_up", "gauge", "1 while the queue runs on memory (state OK)",
                q.state() == QueueInfo.State.OK ? 1 : 0, labels);
        stats.forEach((k, v) -> {
            if (!k.equals("restarts") && v != null) {
                sample("pagepool_device_" + name(k), "untyped", "the driver's per-queue counter " + k
                        + " (ethtool -S)", v, labels);
            }
        });
    }

    String render() {
        StringBuilder b = new StringBuilder();
        families.forEach((name, f) -> {
            b.append("# HELP ").append(name).append(' ').append(f.help()).append('\n');
            b.append("# TYPE ").append(name).append(' ').append(f.type()).append('\n');
            f.samples().forEach(s -> b.append(s).append('\n'));
        });
        return b.toString();
    }

    /** A metric name part: lower case, [a-z0-9_]. */
    static String name(String key) {
        return key.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    }

    static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}

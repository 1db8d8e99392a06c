package pagepool.web;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot.InfoDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.StateSetSnapshot;
import io.prometheus.metrics.model.snapshots.StateSetSnapshot.StateSetDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.binding.RestartLatency;
import pagepool.api.control.Control;
import pagepool.api.control.Device;
import pagepool.api.control.Pool;
import pagepool.api.control.QueueCounters;
import pagepool.api.devmem.DevmemBindingInfo;

/**
 * What pagepool counts, as Prometheus metric families, read from the control plane at each scrape.
 *
 * <p>A series is named by what does not change for the life of the thing it measures: a queue by
 * {@code device} and {@code queue}, a pool by {@code pool}, a provider by {@code provider}, a
 * device by {@code device}. What changes (the provider and pool behind a queue, a pool's queue and
 * provider) is in {@code _info} metrics, joined on those labels, so a provider swap starts no new
 * queue series and {@code rate()} runs across it. The drivers' per-queue counters
 * ({@code ethtool -S}) are counters, but for the ones that count what is out now
 * ({@link #DRIVER_GAUGES}) and identities ({@link #DRIVER_IDS}), which go to the queue's info.
 */
final class Metrics implements MultiCollector {

    /** Driver counters that are levels, not totals. */
    static final Set<String> DRIVER_GAUGES = Set.of("held-pages", "tokens-out", "posted");
    /** Driver counters that name something: labels of pagepool_queue_info (pool-id is the queue's pool). */
    static final Map<String, String> DRIVER_IDS = Map.of("napi-id", "napi", "io-uring", "io_uring", "pool-id", "");

    private final Control control;
    private final Supplier<Map<String, Long>> httpRefusals;
    private final String version;

    Metrics(Control control, Supplier<Map<String, Long>> httpRefusals, String version) {
        this.control = control;
        this.httpRefusals = httpRefusals;
        this.version = version;
    }

    @Override
    public MetricSnapshots collect() {
        Families f = new Families();
        f.info("pagepool_build", "the running pagepool: its version and the JVM's", Labels.of("version", version,
                "java", System.getProperty("java.version", "")));
        for (Pool p : control.pools()) {
            pool(f, p);
        }
        Map<QueueId, QueueCounters> counters = new HashMap<>();
        for (QueueCounters c : control.devstats(null)) {
            counters.put(c.queue(), c);
        }
        for (QueueInfo q : control.queues()) {
            queue(f, q, counters.get(q.queue()));
        }
        for (Device d : control.devices()) {
            Labels l = Labels.of("device", d.name());
            f.gauge("pagepool_device_admin_up", "1 while the device is administratively up (ip link set up)",
                    d.up() ? 1 : 0, l);
            f.gauge("pagepool_device_carrier", "1 while the device has carrier: traffic arrives", d.carrier() ? 1 : 0, l);
            f.gauge("pagepool_device_rx_queues", "RX queues of the device", d.rxQueues(), l);
            f.gauge("pagepool_device_config_refused", "1 while the device's configuration is refused (pp:problems)",
                    d.config().equals("refused") ? 1 : 0, l);
        }
        for (ProviderInfo p : control.providers()) {
            Labels l = Labels.of("provider", p.name());
            f.gauge("pagepool_provider_quarantined", "1 while the provider is quarantined: no queue is put on it",
                    p.state() == ProviderInfo.State.QUARANTINED ? 1 : 0, l);
            f.gauge("pagepool_provider_default", "1 for the provider of unbound queues", p.isDefault() ? 1 : 0, l);
            f.gauge("pagepool_provider_pools", "pools the provider serves, detached ones included", p.pools(), l);
            f.counter("pagepool_provider_faults", "calls into the provider that threw or misbehaved, over all its pools",
                    p.faults().total(), l);
        }
        for (BindingInfo b : control.bindings()) {
            Labels l = Labels.of("binding", String.valueOf(b.id()));
            f.info("pagepool_binding", "a binding of queues to a provider", l.merge(Labels.of("device", b.device(),
                    "queues", String.join(",", b.queues().stream().map(String::valueOf).toList()), "provider",
                    b.provider(), "owner", b.owner())));
            f.stateSet("pagepool_binding_state", "whether the binding applies", l, b.state().name(),
                    BindingInfo.State.values());
        }
        f.gauge("pagepool_problems", "refusals standing: configurations, jars and bindings that cannot apply"
                + " (pp:problems)", control.problems().size(), Labels.EMPTY);
        dmabufs(f);
        restarts(f, control.restartLatency());
        httpRefusals.get().forEach((kind, n) -> f.counter("pagepool_http_refused",
                "HTTP requests refused, by what was wrong (host, origin, method, token, writes)", n,
                Labels.of("kind", kind)));
        return f.snapshots();
    }

    private static void pool(Families f, Pool p) {
        Labels l = Labels.of("pool", String.valueOf(p.id()));
        f.info("pagepool_pool", "a pool's queue and provider, which it keeps for its life",
                l.merge(Labels.of("device", p.queue() == null ? "" : p.queue().device(), "queue", p.queue() == null ? ""
                        : String.valueOf(p.queue().index()), "provider", p.provider())));
        p.stats().toMap().forEach((k, v) -> f.counter("pagepool_pool_" + name(k),
                "page-pool-stats-get " + k + " (Linux's page_pool counter of the same name)", v, l));
        f.gauge("pagepool_pool_inflight_pages", "pages out of the provider: in the cache and ring, in rings, with"
                + " consumers", p.inflight(), l);
        f.gauge("pagepool_pool_inflight_bytes", "bytes of those pages (YNL inflight-mem)", p.inflightMem(), l);
        f.counter("pagepool_pool_pages_taken", "pages the pool took from its provider", p.pagesTaken(), l);
        f.counter("pagepool_pool_pages_returned", "pages the pool gave back to its provider", p.pagesReturned(), l);
        f.counter("pagepool_pool_bad_releases", "releases the pool refused: double, stale, foreign", p.badReleases(), l);
        f.counter("pagepool_pool_provider_faults", "calls into the provider that threw or misbehaved, for this pool",
                p.faults().total(), l);
        Instant detached = p.detachTime();
        f.gauge("pagepool_pool_detached_seconds", "how long the pool has waited detached for its pages; 0 while"
                + " active", detached == null ? 0 : Duration.between(detached, Instant.now()).toMillis() / 1e3, l);
        f.gauge("pagepool_pool_stalled", "1 when the pool has waited detached longer than the stall time",
                p.stalled() ? 1 : 0, l);
    }

    private static void queue(Families f, QueueInfo q, QueueCounters c) {
        Labels l = Labels.of("device", q.queue().device(), "queue", String.valueOf(q.queue().index()));
        Map<String, String> info = new LinkedHashMap<>();
        info.put("provider", q.provider());
        info.put("pool", q.poolId() == 0 ? "" : String.valueOf(q.poolId()));
        info.put("binding", q.bindingId() == 0 ? "" : String.valueOf(q.bindingId()));
        if (c != null) {
            c.counters().forEach((k, v) -> {
                String label = DRIVER_IDS.get(k);
                if (label != null && !label.isEmpty()) {
                    info.put(label, String.valueOf(v));
                }
            });
        }
        List<String> pairs = new ArrayList<>();
        info.forEach((k, v) -> {
            pairs.add(k);
            pairs.add(v);
        });
        f.info("pagepool_queue", "what runs a queue now: its provider, pool and binding, the driver's NAPI id",
                l.merge(Labels.of(pairs.toArray(String[]::new))));
        f.gauge("pagepool_queue_up", "1 while the queue runs on the memory it should (state OK)",
                q.state() == QueueInfo.State.OK ? 1 : 0, l);
        f.counter("pagepool_queue_restarts", "starts of the queue after its first: swaps and restarts", q.restarts(), l);
        if (c == null) {
            return;
        }
        c.counters().forEach((k, v) -> {
            if (DRIVER_IDS.containsKey(k) || k.equals("restarts") || v == null) {
                return;
            }
            if (DRIVER_GAUGES.contains(k)) {
                f.gauge("pagepool_device_" + name(k), "the driver's per-queue level " + k + " (ethtool -S)", v, l);
            } else {
                f.counter("pagepool_device_" + name(k), "the driver's per-queue counter " + k + " (ethtool -S)", v, l);
            }
        });
    }

    private void dmabufs(Families f) {
        List<DevmemBindingInfo> bound;
        try {
            bound = control.dmabufs().bindings();
        } catch (IllegalStateException e) {
            return; // no device-memory provider: nothing to say
        }
        for (DevmemBindingInfo b : bound) {
            Labels l = Labels.of("dmabuf_binding", String.valueOf(b.id()));
            f.gauge("pagepool_dmabuf_chunks", "net_iovs carved from the bound buffer", b.chunks(), l);
            f.gauge("pagepool_dmabuf_chunks_free", "chunks in the binding's free pool", b.chunksFree(), l);
            f.gauge("pagepool_dmabuf_chunks_out", "chunks handed to page pools", b.chunksOut(), l);
        }
    }

    private static void restarts(Families f, RestartLatency r) {
        double[] bounds = new double[r.boundsNanos().size() + 1];
        long[] counts = new long[bounds.length];
        for (int i = 0; i < bounds.length; i++) {
            bounds[i] = i < r.boundsNanos().size() ? r.boundsNanos().get(i) / 1e9 : Double.POSITIVE_INFINITY;
            counts[i] = r.counts().get(i);
        }
        f.add(HistogramSnapshot.builder().name("pagepool_queue_restart_seconds").unit(Unit.SECONDS)
                .help("time from the start of a queue restart until the queue ran on its new memory")
                .dataPoint(HistogramDataPointSnapshot.builder().classicHistogramBuckets(ClassicHistogramBuckets.of(
                        bounds, counts)).sum(r.sumNanos() / 1e9).build()).build());
        f.counter("pagepool_queue_restarts_hitless", "restarts that switched a running queue without stopping it",
                r.hitless(), Labels.EMPTY);
        f.counter("pagepool_queue_restarts_failed", "restarts that did not leave the queue on its new memory",
                r.failed(), Labels.EMPTY);
    }

    /** A metric name part: lower case, [a-z0-9_]. */
    static String name(String key) {
        return key.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    }

    /** Families by name, each with its data points, in the order first seen. */
    private static final class Families {
        private final Map<String, CounterSnapshot.Builder> counters = new LinkedHashMap<>();
        private final Map<String, GaugeSnapshot.Builder> gauges = new LinkedHashMap<>();
        private final Map<String, InfoSnapshot.Builder> infos = new LinkedHashMap<>();
        private final Map<String, StateSetSnapshot.Builder> stateSets = new LinkedHashMap<>();
        private final List<MetricSnapshot> others = new ArrayList<>();

        void counter(String name, String help, double value, Labels labels) {
            counters.computeIfAbsent(name, n -> CounterSnapshot.builder().name(n).help(help))
                    .dataPoint(CounterDataPointSnapshot.builder().value(value).labels(labels).build());
        }

        void gauge(String name, String help, double value, Labels labels) {
            gauges.computeIfAbsent(name, n -> GaugeSnapshot.builder().name(n).help(help))
                    .dataPoint(GaugeDataPointSnapshot.builder().value(value).labels(labels).build());
        }

        void info(String name, String help, Labels labels) {
            infos.computeIfAbsent(name, n -> InfoSnapshot.builder().name(n).help(help))
                    .dataPoint(InfoDataPointSnapshot.builder().labels(labels).build());
        }

        void stateSet(String name, String help, Labels labels, String state, Enum<?>[] states) {
            StateSetDataPointSnapshot.Builder p = StateSetDataPointSnapshot.builder().labels(labels);
            for (Enum<?> s : states) {
                p.state(s.name(), s.name().equals(state));
            }
            stateSets.computeIfAbsent(name, n -> StateSetSnapshot.builder().name(n).help(help)).dataPoint(p.build());
        }

        void add(MetricSnapshot s) {
            others.add(s);
        }

        MetricSnapshots snapshots() {
            List<MetricSnapshot> all = new ArrayList<>(others);
            infos.values().forEach(b -> all.add(b.build()));
            counters.values().forEach(b -> all.add(b.build()));
            gauges.values().forEach(b -> all.add(b.build()));
            stateSets.values().forEach(b -> all.add(b.build()));
            return new MetricSnapshots(all);
        }
    }
}

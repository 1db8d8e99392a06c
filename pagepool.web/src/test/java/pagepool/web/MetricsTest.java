package pagepool.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import io.prometheus.metrics.expositionformats.ExpositionFormats;
import pagepool.api.PoolInfo;
import pagepool.api.PoolStats;
import pagepool.api.ProviderFaults;
import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.binding.RestartLatency;
import pagepool.api.control.Control;
import pagepool.api.control.Device;
import pagepool.api.control.Pool;
import pagepool.api.control.QueueCounters;

/** The metric families pagepool writes, from a control plane that answers what a test says. */
class MetricsTest {

    private static final QueueId Q1 = new QueueId("sim0", 1);

    /** A control plane with queue sim0/1 on {@code provider}, in pool {@code pool}. */
    private static Control control(String provider, int pool, long packets) {
        PoolStats stats = new PoolStats(100, 2, 0, 2, 3, 0, 50, 0, 40, 0, 0);
        Map<String, Object> answers = Map.of(
                "pools", List.of(Pool.of(new PoolInfo(pool, Q1, provider, PoolInfo.State.ACTIVE, 64, 262144, 64, 0, null,
                        false, 0, ProviderFaults.NONE, Map.of(), stats), "data")),
                "queues", List.of(new QueueInfo(Q1, provider, 0, pool, QueueInfo.State.OK, 3, "")),
                "devstats", List.of(new QueueCounters(Q1, Map.of("packets", packets, "napi-id", 7L, "pool-id",
                        (long) pool, "held-pages", 1L), "")),
                "devices", List.of(new Device("sim0", 4, false, true, true, Map.of(), "applied", "")),
                "providers", List.of(new ProviderInfo("heap", true, true, 0, 1, ProviderInfo.State.ACTIVE, null, null)),
                "bindings", List.of(new BindingInfo(2, "sim0", List.of(1), provider, "bundle:pagepool.control#9", "HTTP",
                        BindingInfo.State.APPLIED, "")),
                "problems", List.of(),
                "restartLatency", new RestartLatency(List.of(10_000L, 1_000_000L), List.of(4L, 1L, 0L), 900_000, 5, 0));
        return (Control) Proxy.newProxyInstance(Control.class.getClassLoader(), new Class<?>[] {Control.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("dmabufs")) {
                        throw new IllegalStateException("no device-memory provider");
                    }
                    Object a = answers.get(method.getName());
                    if (a == null) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    return a;
                });
    }

    private static String scrape(Control c, String accept) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExpositionFormats.init().findWriter(accept).write(out, new Metrics(c, () -> Map.of("origin", 1L), "0.1.0")
                .collect());
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Each sample's name and labels: the series it belongs to. */
    private static Set<String> series(String text) {
        return text.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).map(l -> l.substring(0, l.lastIndexOf(' ')))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void queuesAreNamedByDeviceAndQueueAndWhatRunsThemIsInfo() throws Exception {
        List<String> lines = scrape(control("heap", 3, 1000), "text/plain").lines().toList();
        assertTrue(lines.contains("# TYPE pagepool_queue_restarts_total counter"), String.join("\n", lines));
        assertTrue(lines.contains("pagepool_queue_restarts_total{device=\"sim0\",queue=\"1\"} 3.0"), lines.toString());
        assertTrue(lines.contains("pagepool_device_packets_total{device=\"sim0\",queue=\"1\"} 1000.0"), lines.toString());
        assertTrue(lines.contains("pagepool_device_held_pages{device=\"sim0\",queue=\"1\"} 1.0"), "a level, a gauge");
        assertTrue(lines.contains("pagepool_queue_info{binding=\"\",device=\"sim0\",napi=\"7\",pool=\"3\","
                + "provider=\"heap\",queue=\"1\"} 1"), lines.toString());
        assertTrue(lines.contains("pagepool_pool_alloc_fast_total{pool=\"3\"} 100.0"), lines.toString());
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("pagepool_device_pool_id")
                || l.startsWith("pagepool_device_napi_id")), "identities are labels, not values");
        assertTrue(lines.contains("pagepool_queue_restart_seconds_bucket{le=\"1.0E-5\"} 4"), lines.toString());
        assertTrue(lines.contains("pagepool_queue_restart_seconds_count 5"), lines.toString());
        assertTrue(lines.contains("pagepool_binding_state{binding=\"2\",pagepool_binding_state=\"APPLIED\"} 1"),
                lines.toString());
    }

    @Test
    void aProviderSwapKeepsEverySeriesButThePoolsAndTheInfo() throws Exception {
        Set<String> before = series(scrape(control("heap", 3, 1000), "text/plain"));
        Set<String> after = series(scrape(control("hugepage", 5, 2000), "text/plain"));
        Set<String> kept = new TreeSet<>(before);
        kept.removeIf(s -> s.contains("pool=\"") || s.contains("_info{") || s.startsWith("pagepool_binding"));
        assertTrue(after.containsAll(kept), "lost: " + kept.stream().filter(s -> !after.contains(s)).toList());
        assertEquals(before.stream().filter(s -> s.startsWith("pagepool_device_packets_total")).toList(),
                after.stream().filter(s -> s.startsWith("pagepool_device_packets_total")).toList());
    }

    @Test
    void openMetricsWhenTheScraperAsksForIt() throws Exception {
        String om = scrape(control("heap", 3, 1000), "application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertTrue(om.endsWith("# EOF\n"), om);
        assertTrue(om.contains("# UNIT pagepool_queue_restart_seconds seconds"), om);
        assertTrue(om.contains("# TYPE pagepool_binding_state stateset"), om);
    }

    @Test
    void counterNamesBecomeMetricNames() {
        assertEquals("recycle_released_refcnt", Metrics.name("recycle-released-refcnt"));
        assertEquals("iotlb_misses", Metrics.name("IOTLB misses"));
    }

    @Test
    void aDetachedPoolSaysForHowLong() throws Exception {
        Instant detached = Instant.now().minusSeconds(90);
        Pool p = Pool.of(new PoolInfo(9, null, "heap", PoolInfo.State.DETACHED, 1, 4096, 64, 63, detached, true, 0,
                ProviderFaults.NONE, Map.of(), new PoolStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), null);
        Control c = control("heap", 3, 1000);
        Control withDetached = (Control) Proxy.newProxyInstance(Control.class.getClassLoader(),
                new Class<?>[] {Control.class}, (proxy, m, args) -> {
                    if (m.getName().equals("pools")) {
                        return List.of(p);
                    }
                    try {
                        return m.invoke(c, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        String text = scrape(withDetached, "text/plain");
        String age = text.lines().filter(l -> l.startsWith("pagepool_pool_detached_seconds{pool=\"9\"}")).findFirst()
                .orElseThrow();
        double seconds = Double.parseDouble(age.substring(age.lastIndexOf(' ') + 1));
        assertTrue(seconds >= 90 && seconds < 3600, age);
        assertTrue(text.contains("pagepool_pool_stalled{pool=\"9\"} 1.0"), text);
    }
}

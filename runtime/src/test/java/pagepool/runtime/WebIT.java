package pagepool.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web bundle in the assembled runtime: the control plane's JSON over HTTP, binds from the
 * page, the change stream, and /metrics across a provider swap, read by the Prometheus parsers.
 */
class WebIT {

    @TempDir
    Path tmp;

    private WebClient web;




    /** Each sample's name and labels: the series it belongs to. */
    private static Set<String> series(String text) {
        return text.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).map(l -> l.substring(0, l.lastIndexOf(' ')))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Runs cnf/promparse.sh (the Prometheus Python client's parsers) on {@code text}; skips when it cannot be had. */
    private static void parses(String format, String text) throws Exception {
        Path script = Path.of(System.getProperty("pagepool.root", "..")).resolve("cnf/promparse.sh").toAbsolutePath();
        Process p = new ProcessBuilder("bash", script.toString(), format).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String said = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        int rc = p.waitFor();
        Assumptions.assumeTrue(rc != 3, "no Prometheus parser here: " + said);
        assertEquals(0, rc, format + " refused by the Prometheus parser: " + said);
        assertTrue(said.contains("pagepool_queue_restart_seconds histogram"), said);
    }

    @Test
    void theShellsJsonBindsAndMetricsOverHttp() throws Exception {
        int port = RunningRuntime.freePort();
        web = new WebClient(port);
        HttpClient http = web.http;
        try (RunningRuntime rt = RunningRuntime.withWeb(tmp.resolve("runtime"), port)) {
            rt.installExtra("provider.hugepage");
            rt.await("the web answers", web::answers);
            rt.await("hugepage up", () -> rt.text("pp:providers --json").contains("\"hugepage\""));
            String token = web.readToken(rt.home);

            // The same JSON as the shell's, field for field.
            assertEquals(rt.text("pp:queues --json"), web.get("/pagepool/api/queues").body());
            HttpResponse<String> nope = web.get("/pagepool/api/nope");
            assertEquals(404, nope.statusCode());
            assertTrue(nope.body().contains("api: 'nope' (expected: one of [bindings, change-log, devices, devstats, dmabufs,"),
                    nope.body());

            // Binds from the page get the shell's checks and messages.
            HttpResponse<String> bad = web.post("/pagepool/api/bind", "device=sim0&queues=9&provider=hugepage");
            assertEquals(400, bad.statusCode());
            assertEquals("{\"error\":\"queue: 9 (expected: 0..3 on sim0)\"}", bad.body());
            HttpResponse<String> smuggled = web.post("/pagepool/api/bind", "device=sim0&queues=1&provider=heap%3Bstop+0");
            assertEquals(400, smuggled.statusCode());
            assertTrue(smuggled.body().contains("provider: 'heap;stop 0' is not present (expected:"), smuggled.body());
            // The change stream (server-sent events) sees what the bind does.
            java.util.concurrent.BlockingQueue<String> events = new java.util.concurrent.LinkedBlockingQueue<>();
            HttpResponse<Stream<String>> stream = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + port + "/pagepool/api/changes")).build(), HttpResponse.BodyHandlers.ofLines());
            assertEquals("text/event-stream", stream.headers().firstValue("Content-Type").orElse("").split(";")[0]);
            Thread reader = new Thread(() -> stream.body().forEach(events::add));
            reader.setDaemon(true);
            reader.start();
            HttpResponse<String> foreign = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/pagepool/api/bind")).header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Origin", "http://evil.example").header("X-Pagepool-Token", token).POST(HttpRequest.BodyPublishers.ofString(
                            "device=sim0&queues=1&provider=hugepage")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(403, foreign.statusCode(), "another site's page may not bind");
            Set<String> before = series(web.get("/metrics").body());
            HttpResponse<String> ok = web.post("/pagepool/api/bind", "device=sim0&queues=1&provider=hugepage");
            assertEquals(200, ok.statusCode(), ok.body());
            assertTrue(web.get("/pagepool/api/queues").body().contains(
                    "{\"queue\":\"sim0/1\",\"provider\":\"hugepage\""));
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
            String event = "";
            while (!event.contains("\"kind\":\"QUEUE_CHANGED\"")) {
                String line = events.poll(Math.max(1, deadline - System.nanoTime()),
                        java.util.concurrent.TimeUnit.NANOSECONDS);
                assertTrue(line != null, "no QUEUE_CHANGED event within 20 s");
                event = line;
            }
            assertTrue(event.startsWith("data: {\"time\":\""), event);
            assertTrue(event.contains("\"queue\":\"sim0/1\",\"provider\":\"hugepage\",\"detail\":\"swapped from 'heap'\""),
                    event);
            assertEquals(200, web.post("/pagepool/api/unbind", "device=sim0&queues=1").statusCode());
            assertTrue(web.get("/pagepool/api/queues").body().contains("{\"queue\":\"sim0/1\",\"provider\":\"heap\""));

            // Prometheus: typed families, every series named by what does not change; the swaps above
            // (sim0/1 onto hugepage and back) started no new series for a queue, a device or a provider.
            HttpResponse<String> m = web.get("/metrics");
            assertEquals(200, m.statusCode());
            assertTrue(m.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
            List<String> lines = m.body().lines().toList();
            assertTrue(lines.contains("# TYPE pagepool_pool_alloc_fast_total counter"), m.body());
            assertTrue(lines.contains("# TYPE pagepool_queue_restart_seconds histogram"), m.body());
            assertTrue(lines.stream().anyMatch(l -> l.matches(
                    "pagepool_device_packets_total\\{device=\"sim0\",queue=\"0\"} [0-9.E]+")), m.body());
            assertTrue(lines.stream().anyMatch(l -> l.matches("pagepool_queue_info\\{binding=\"\",device=\"sim0\","
                    + "napi=\"\\d+\",pool=\"\\d+\",provider=\"heap\",queue=\"1\"} 1")), m.body());
            assertTrue(lines.contains("pagepool_http_refused_total{kind=\"origin\"} 1.0"), m.body());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("jvm_memory_used_bytes{")), "the JVM's metrics");
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("process_cpu_seconds_total ")), "the process's");
            Set<String> after = series(m.body());
            Set<String> kept = new TreeSet<>(before);
            kept.removeIf(x -> x.contains("pool=\"") || x.contains("_info{") || x.startsWith("pagepool_binding")
                    || x.startsWith("jvm_") || x.startsWith("process_") || x.startsWith("pagepool_queue_restart_seconds"));
            assertTrue(kept.stream().anyMatch(x -> x.startsWith("pagepool_device_packets_total{device=\"sim0\",queue=\"1\"")));
            assertEquals(List.of(), kept.stream().filter(x -> !after.contains(x)).toList(), "series lost in the swap");
            HttpResponse<String> om = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .header("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(om.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"));
            assertTrue(om.body().endsWith("# EOF\n"));

            // Bodies Jetty cannot read are refused in the API's one JSON line, never its HTML page.
            String tooLarge = "device=sim0&queues=1&provider=" + "x".repeat(300_000);
            for (String[] unreadable : new String[][] {{"application/x-www-form-urlencoded", "device=%ZZ&queues=1&provider=heap"},
                {"application/x-www-form-urlencoded; charset=utf-99", "device=sim0&queues=1&provider=heap"},
                {"application/x-www-form-urlencoded", tooLarge}}) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(web.uri("/pagepool/api/bind"))
                        .header("Content-Type", unreadable[0]).header("X-Pagepool-Token", token)
                        .POST(HttpRequest.BodyPublishers.ofString(unreadable[1])).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(400, r.statusCode(), unreadable[0] + ": " + r.body());
                assertTrue(r.body().startsWith("{\"error\":\"request: its fields could not be read (")
                        && r.body().endsWith("(expected: a form, application/x-www-form-urlencoded in UTF-8, of at most"
                                + " 200 KB)\"}"), r.body());
                assertEquals("application/json", r.headers().firstValue("Content-Type").orElse("").split(";")[0]);
            }

            // Event streams hold a thread each: at most 32 at once; the 33rd is told to poll instead.
            List<HttpResponse<java.io.InputStream>> streams = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 31; i++) { // and the stream above: 32
                    streams.add(http.send(HttpRequest.newBuilder(web.uri("/pagepool/api/changes")).build(),
                            HttpResponse.BodyHandlers.ofInputStream()));
                    assertEquals(200, streams.get(i).statusCode(), "stream " + i);
                    streams.get(i).body().read(); // its first comment: the stream is open in the runtime
                }
                HttpResponse<String> full = web.get("/pagepool/api/changes");
                assertEquals(503, full.statusCode());
                assertTrue(full.body().startsWith("{\"error\":\"changes: 32 streams are open (expected: at most 32;"),
                        full.body());
            } finally {
                for (HttpResponse<java.io.InputStream> r : streams) {
                    r.body().close();
                }
            }

            HttpResponse<String> page = web.get("/pagepool");
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("<title>pagepool</title>"));

            // Last, as it may be skipped where no parser can be had: the Prometheus project's own
            // parsers take both formats.
            parses("text", m.body());
            parses("openmetrics", om.body());
        }
    }
}

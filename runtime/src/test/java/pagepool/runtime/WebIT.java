package pagepool.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The web bundle in the assembled runtime: the shell's JSON over HTTP, binds from the page, /metrics. */
class WebIT {

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newHttpClient();
    private int port;
    /** The write token this start generated, as a script reads it. */
    private String token;

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String form) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/x-www-form-urlencoded").header("X-Pagepool-Token", token)
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private boolean answers() {
        try {
            return get("/pagepool/api/queues").statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void theShellsJsonBindsAndMetricsOverHttp() throws Exception {
        port = RunningRuntime.freePort();
        Path dist = Path.of(System.getProperty("pagepool.dist", "target/pagepool-runtime"));
        try (RunningRuntime rt = new RunningRuntime(dist, tmp.resolve("runtime"), "-Dfelix.fileinstall.poll=100",
                "-Dpagepool.web=true", "-Dorg.osgi.service.http.port=" + port)) {
            rt.installExtra("provider.hugepage");
            rt.await("the web answers", this::answers);
            rt.await("hugepage up", () -> rt.text("pp:providers --json").contains("\"hugepage\""));
            token = java.nio.file.Files.readString(rt.home.resolve("run/http.token")).strip();

            // The same JSON as the shell's, field for field.
            assertEquals(rt.text("pp:queues --json"), get("/pagepool/api/queues").body());
            HttpResponse<String> nope = get("/pagepool/api/nope");
            assertEquals(404, nope.statusCode());
            assertTrue(nope.body().contains("api: 'nope' (expected: one of [bindings, devices, devstats, dmabufs,"),
                    nope.body());

            // Binds from the page get the shell's checks and messages.
            HttpResponse<String> bad = post("/pagepool/api/bind", "device=sim0&queues=9&provider=hugepage");
            assertEquals(400, bad.statusCode());
            assertEquals("{\"error\":\"queue: 9 (expected: 0..3 on sim0)\"}", bad.body());
            HttpResponse<String> smuggled = post("/pagepool/api/bind", "device=sim0&queues=1&provider=heap%3Bstop+0");
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
            HttpResponse<String> ok = post("/pagepool/api/bind", "device=sim0&queues=1&provider=hugepage");
            assertEquals(200, ok.statusCode(), ok.body());
            assertTrue(get("/pagepool/api/queues").body().contains(
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
            assertEquals(200, post("/pagepool/api/unbind", "device=sim0&queues=1").statusCode());
            assertTrue(get("/pagepool/api/queues").body().contains("{\"queue\":\"sim0/1\",\"provider\":\"heap\""));

            // Prometheus: every family with HELP and TYPE, every sample a name, labels and a number.
            HttpResponse<String> m = get("/metrics");
            assertEquals(200, m.statusCode());
            assertTrue(m.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            List<String> lines = m.body().lines().toList();
            assertTrue(lines.contains("# TYPE pagepool_pool_alloc_fast_total counter"), m.body());
            assertTrue(lines.contains("# TYPE pagepool_pool_inflight_pages gauge"));
            assertTrue(lines.stream().anyMatch(l -> l.matches(
                    "pagepool_device_packets\\{device=\"sim0\",queue=\"0\",provider=\"heap\"} \\d+")), m.body());
            assertTrue(lines.contains("pagepool_http_refused_total{kind=\"origin\"} 1"), m.body());
            assertTrue(lines.stream().anyMatch(l -> l.matches("pagepool_pool_alloc_fast_total\\{pool=\"\\d+\","
                    + "device=\"sim0\",queue=\"1\",provider=\"heap\",state=\"active\"} \\d+")), m.body());
            for (String l : lines) {
                assertTrue(l.startsWith("# HELP ") || l.startsWith("# TYPE ")
                        || l.matches("[a-z_]+\\{([a-z]+=\"[^\"]*\",?)*} -?\\d+"), "not Prometheus text: " + l);
            }

            HttpResponse<String> page = get("/pagepool");
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("<title>pagepool</title>"));
        }
    }
}

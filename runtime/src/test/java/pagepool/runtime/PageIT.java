package pagepool.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live page in a real browser: headless Chromium (installed by cnf/chromium.sh) loads
 * /pagepool from the running runtime, sees the queues, binds a queue to another provider from
 * the page's form, and sees the provider change with no spike on the other queues' rates; a new
 * tab draws the runtime's history at once; Chromium's one-shot {@code --virtual-time-budget}
 * screenshot finishes; and when the runtime stops, the page marks itself stale. It saves a
 * screenshot ({@code target/pagepool-page.png}, the README's picture). Chromium is driven through its
 * DevTools protocol over a WebSocket, with the JDK's own client.
 */
class PageIT {

    private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("PAGEPOOL_CHROMIUM",
            "/usr/bin/chromium"));

    @TempDir
    Path tmp;

    @Test
    void thePageShowsTheQueuesAndBindsAQueueToAnotherProvider() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "no chromium at " + CHROMIUM + ": cnf/chromium.sh could not install"
                + " it here, so the page test is skipped");
        int port = RunningRuntime.freePort();
        try (RunningRuntime rt = RunningRuntime.withWeb(tmp.resolve("runtime"), port)) {
            rt.installExtra("provider.hugepage");
            rt.await("hugepage up", () -> rt.text("pp:providers --json").contains("\"hugepage\""));
            rt.await("the web answers", new WebClient(port)::answers);
            try (Browser b = new Browser(tmp.resolve("chromium"))) {
                String page = "http://127.0.0.1:" + port + "/pagepool";
                b.open(page);
                b.await("the queues on the page", "document.querySelector('#queues').innerText",
                        t -> t.contains("sim0/3") && t.contains("heap") && t.matches("(?s).*sim0/0\\s+heap\\s+[1-9].*"));
                b.await("a few samples drawn", "((window.pagepool && pagepool.series['sim0/0']) || []).length",
                        t -> Integer.parseInt(t) >= 4);
                long bindAt = Long.parseLong(b.eval("String(Math.max(...pagepool.series['sim0/0'].map(x => x.seq)))"));
                b.eval("const f = document.querySelector('#bind'); f.device.value = 'sim0'; f.queues.value = '1';"
                        + " f.provider.value = 'hugepage'; f.querySelector('button').click(); 'clicked'");
                b.await("the answer", "document.querySelector('#answer').innerText",
                        t -> t.contains("binding") && t.contains("APPLIED"));
                b.await("queue 1 on hugepage on the page", "document.querySelector('#queues').innerText",
                        t -> t.matches("(?s).*sim0/1\\s+hugepage.*"));
                b.await("the change in the page's list", "document.querySelector('#changes').innerText",
                        t -> t.contains("queue changed") && t.contains("swapped from 'heap'"));
                assertTrue(rt.text("pp:queues --json").contains("{\"queue\":\"sim0/1\",\"provider\":\"hugepage\""),
                        "the binding is the runtime's, not only the page's");
                // The bind draws no spike on the other queues: each rate over the seconds around it
                // stays near its queue's median (the simulated wire paces 10k packets/s a queue).
                b.await("three samples after the bind", "Math.max(...pagepool.series['sim0/0'].map(x => x.seq))",
                        t -> Long.parseLong(t) >= bindAt + 3);
                for (String q : List.of("sim0/0", "sim0/2", "sim0/3")) {
                    String[] pps = b.eval("pagepool.series['" + q + "'].map(x => x.pps).join(' ')").split(" ");
                    double[] r = java.util.Arrays.stream(pps).mapToDouble(Double::parseDouble).sorted().toArray();
                    double median = r[r.length / 2];
                    assertTrue(median > 1000, q + ": " + String.join(" ", pps));
                    assertTrue(r[r.length - 1] < 1.5 * median, q + " spiked around the bind: " + String.join(" ", pps));
                }
                // A new tab draws the history at once: its first answer carries every sample kept.
                long kept = Long.parseLong(b.eval("String(pagepool.series['sim0/0'].length)"));
                b.open(page);
                b.await("the history in a new tab", "((window.pagepool && pagepool.series['sim0/0']) || []).length",
                        t -> Long.parseLong(t) >= kept);
                Files.write(Path.of("target/pagepool-page.png"), b.screenshot());

                // Chromium's own one-shot screenshot finishes: no request of the page stays open.
                Path shot = tmp.resolve("shot.png");
                Process oneShot = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                        "--user-data-dir=" + tmp.resolve("chromium-shot"), "--virtual-time-budget=5000",
                        "--screenshot=" + shot, page).redirectErrorStream(true)
                        .redirectOutput(tmp.resolve("shot.log").toFile()).start();
                assertTrue(oneShot.waitFor(90, TimeUnit.SECONDS), "chromium --virtual-time-budget hung on the page");
                assertTrue(Files.size(shot) > 0, "a screenshot was written");

                // The runtime stops: the page says so, and stops looking live.
                rt.close();
                b.await("the page marks itself stale", "document.querySelector('#status').className + ' '"
                        + " + document.body.className + ' ' + document.querySelector('#status').innerText",
                        t -> t.startsWith("stale stale stale: no answer from the runtime"));
            }
        }
    }

    /** Headless Chromium and one page of it, over the DevTools protocol. */
    private static final class Browser implements AutoCloseable {
        private static final Pattern VALUE = Pattern.compile("\"value\":\"((?:[^\"\\\\]|\\\\.)*)\"");
        private final Process process;
        private final WebSocket socket;
        private final AtomicInteger ids = new AtomicInteger();
        private final Map<Integer, CompletableFuture<String>> waiting = new ConcurrentHashMap<>();

        Browser(Path profile) throws Exception {
            Files.createDirectories(profile);
            process = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1280,1100", "--remote-debugging-port=0",
                    "--user-data-dir=" + profile, "about:blank").redirectErrorStream(true)
                    .redirectOutput(profile.resolve("chromium.log").toFile()).start();
            Path active = profile.resolve("DevToolsActivePort");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(active) || Files.readAllLines(active).size() < 2) {
                if (System.nanoTime() > deadline || !process.isAlive()) {
                    throw new AssertionError("chromium did not open its DevTools port: "
                            + Files.readString(profile.resolve("chromium.log")));
                }
                Thread.sleep(50);
            }
            int port = Integer.parseInt(Files.readAllLines(active).get(0).strip());
            HttpClient http = HttpClient.newHttpClient();
            String targets = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            Matcher ws = Pattern.compile("\"webSocketDebuggerUrl\":\\s*\"(ws://[^\"]+/devtools/page/[^\"]+)\"")
                    .matcher(targets);
            if (!ws.find()) {
                throw new AssertionError("no page in chromium: " + targets);
            }
            socket = http.newWebSocketBuilder().buildAsync(URI.create(ws.group(1)), new WebSocket.Listener() {
                private final StringBuilder message = new StringBuilder();

                @Override
                public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                    message.append(data);
                    if (last) {
                        String m = message.toString();
                        message.setLength(0);
                        Matcher id = Pattern.compile("^\\{\"id\":(\\d+),").matcher(m);
                        if (id.find()) {
                            CompletableFuture<String> f = waiting.remove(Integer.parseInt(id.group(1)));
                            if (f != null) {
                                f.complete(m);
                            }
                        }
                    }
                    w.request(1);
                    return null;
                }
            }).get(10, TimeUnit.SECONDS);
        }

        String call(String method, String params) throws Exception {
            int id = ids.incrementAndGet();
            CompletableFuture<String> f = new CompletableFuture<>();
            waiting.put(id, f);
            socket.sendText("{\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + params + "}", true);
            return f.get(30, TimeUnit.SECONDS);
        }

        /**
         * Navigates to {@code url} until the page's script runs: a navigation sent while a busy
         * browser is still setting up its tab can be lost, so it is sent again, up to three times.
         */
        void open(String url) throws Exception {
            eval("window.leaving = true; 'marked'"); // the page now shown must not pass for the new one
            for (int attempt = 1; ; attempt++) {
                call("Page.navigate", "{\"url\":\"" + url + "\"}");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (System.nanoTime() < deadline) {
                    if (eval("String(!window.leaving && document.readyState === 'complete' && !!window.pagepool"
                            + " && !!document.querySelector('#queues'))").equals("true")) {
                        return;
                    }
                    Thread.sleep(100);
                }
                if (attempt == 3) {
                    throw new AssertionError(url + " did not load in three tries of 10 s: " + eval(
                            "document.location.href + ' ' + document.readyState"));
                }
            }
        }

        /** Evaluates {@code js} (statements allowed) in the page; the last value as a string. */
        String eval(String js) throws Exception {
            String r = call("Runtime.evaluate", "{\"expression\":\"" + js.replace("\\", "\\\\").replace("\"", "\\\"")
                    + "\",\"returnByValue\":true}");
            Matcher v = VALUE.matcher(r);
            return v.find() ? v.group(1).replace("\\n", "\n").replace("\\t", "\t").replace("\\\"", "\"") : r;
        }

        void await(String what, String js, java.util.function.Predicate<String> condition) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String last = "";
            while (!condition.test(last = eval("String(" + js + ")"))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(what + ": not within 30 s; the page shows: " + last);
                }
                Thread.sleep(100);
            }
        }

        byte[] screenshot() throws Exception {
            Matcher data = Pattern.compile("\"data\":\"([^\"]+)\"").matcher(call("Page.captureScreenshot",
                    "{\"format\":\"png\"}"));
            assertTrue(data.find(), "a screenshot");
            return Base64.getDecoder().decode(data.group(1));
        }

        @Override
        public void close() throws Exception {
            socket.abort();
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}

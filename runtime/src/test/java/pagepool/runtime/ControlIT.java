package pagepool.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The runtime as an operator runs it: headless ({@code --daemon}), reached from other processes
 * through {@code ControlClient} (what {@code ./pagepool ctl} runs), {@code --exec} and HTTP; and the
 * same instance against a hostile local process and a hostile browser.
 */
class ControlIT {

    /** What one process printed and how it ended. */
    record Run(int status, String out, String err) {
    }

    private Path home;
    private Process daemon;
    private int port;

    @BeforeEach
    void start() throws Exception {
        // A folder others may enter (a JUnit @TempDir is 0700), so the socket's own modes are tested.
        home = Files.createTempDirectory("pagepool-control", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        RunningRuntime.copy(Path.of(System.getProperty("pagepool.dist", "target/pagepool-runtime")), home);
        port = RunningRuntime.freePort();
        daemon = new ProcessBuilder(java("-Dfelix.fileinstall.poll=100", "-Dorg.osgi.service.http.port=" + port,
                "-jar", "pagepool.jar", "--daemon")).directory(home.toFile())
                .redirectOutput(home.resolve("daemon.out").toFile()).redirectError(home.resolve("daemon.err").toFile())
                .start();
        await("the runtime answers on its socket", () -> ctl("pp:queues --json").out().split("\"OK\"", -1).length == 5);
    }

    @AfterEach
    void stop() throws Exception {
        if (daemon != null && daemon.isAlive()) {
            daemon.destroy();
            if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
                daemon.destroyForcibly();
            }
        }
        try (Stream<Path> s = Files.walk(home)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static List<String> java(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private Run exec(List<String> cmd, String stdin) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(home.toFile()).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        // Read both streams whole; the commands here print little, so neither pipe fills first.
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "ended within 60 s: " + cmd);
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    /** What ./pagepool ctl runs. */
    private Run ctl(String... words) {
        List<String> cmd = java("-cp", "pagepool.jar", "pagepool.runtime.ControlClient", home.toString());
        cmd.addAll(List.of(words));
        try {
            return exec(cmd, "");
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(100);
        }
    }

    @Test
    void anOperatorDrivesTheRunningRuntimeFromOtherProcesses() throws Exception {
        // A provider hot-installed, then bound from another process; the answer is the shell's.
        try (Stream<Path> s = Files.list(home.resolve("extra"))) {
            Path jar = s.filter(f -> f.getFileName().toString().startsWith("provider.hugepage-")).findFirst()
                    .orElseThrow();
            Files.copy(jar, home.resolve("load").resolve(jar.getFileName()));
        }
        await("hugepage up", () -> ctl("pp:providers --json").out().contains("\"hugepage\""));
        Run bind = ctl("pp:bind", "--json", "sim0", "1", "hugepage");
        assertEquals(0, bind.status(), bind.err());
        assertTrue(bind.out().startsWith("[{\"id\":1,\"device\":\"sim0\",\"queues\":[1],\"provider\":\"hugepage\""),
                bind.out());
        assertTrue(http("GET", "/pagepool/api/queues", "127.0.0.1:" + port, null, null, null).body()
                .contains("{\"queue\":\"sim0/1\",\"provider\":\"hugepage\""), "the HTTP API sees the same instance");

        // A refusal: one line, status 1, nothing changed; a script stops at it unless --force.
        Run typo = ctl("pp:bind", "sim0", "2", "hugepgae");
        assertEquals(1, typo.status());
        assertEquals("", typo.out());
        assertTrue(typo.err().startsWith("error: provider: 'hugepgae' is not present (expected: one of [heap, hugepage]"),
                typo.err());
        Path script = home.resolve("script.txt");
        Files.writeString(script, "pp:link sim0 sideways\npp:bind sim0 2 hugepage\n");
        assertEquals(1, ctl("-f", script.toString()).status());
        assertFalse(ctl("pp:bindings").out().contains("sim0    2"), "the script stopped at the refusal");

        // --exec in this folder talks to the running instance: the same bindings, the cache untouched.
        List<String> cacheBefore = listing(home.resolve("felix-cache"));
        Run exec = exec(java("-jar", "pagepool.jar", "--exec", "pp:bindings --json; pp:unbind sim0 9"), "");
        assertEquals(1, exec.status(), exec.err());
        assertTrue(exec.out().contains("\"provider\":\"hugepage\",\"owner\":\"bundle:pagepool.control"), exec.out());
        assertTrue(exec.err().contains("error: queue: 9 (expected: 0..3 on sim0)"), exec.err());
        assertEquals(cacheBefore, listing(home.resolve("felix-cache")), "--exec left the instance's cache alone");

        // Link down and up, a page held and given back, all from outside.
        assertEquals(0, ctl("pp:link", "sim0", "down").status());
        assertTrue(ctl("pp:devices --json").out().contains("\"name\":\"sim0\",\"rx-queues\":4,\"header-split\":false,"
                + "\"up\":false"));
        assertEquals(0, ctl("pp:link", "sim0", "up").status());
        Run hold = ctl("pp:pp_hold", "sim0", "2", "on");
        assertEquals("sim0/2: 1 page(s) held outside the pool\n", hold.out(), hold.err());
        assertEquals("sim0/2: 0 page(s) held outside the pool\n", ctl("pp:pp_hold", "sim0", "2", "off").out());
        assertTrue(http("GET", "/metrics", "127.0.0.1:" + port, null, null, null).body()
                .contains("pagepool_pool_alloc_fast_total{"));

        // Tables a terminal holds: pools in one line each, counters under their netlink names in
        // the one-pool view; device counters a row each, at most six queues across.
        String pools = ctl("pp:pools").out();
        assertTrue(pools.lines().allMatch(l -> l.length() <= 120), pools);
        assertTrue(pools.startsWith("ID  QUEUE   ROLE  PROVIDER  STATE   INFLIGHT  INFLIGHT-MEM  PAGES-TAKEN"), pools);
        String pool = ctl("pp:pools", pools.lines().skip(1).findFirst().orElseThrow().split(" ")[0]).out();
        for (String name : List.of("inflight-mem", "stats.alloc-fast", "stats.alloc-slow-high-order",
                "stats.recycle-released-refcnt", "provider-info.")) {
            assertTrue(pool.contains(name), name + " in " + pool);
        }
        String devstats = ctl("pp:devstats").out();
        assertTrue(devstats.lines().allMatch(l -> l.length() <= 80), devstats);
        assertTrue(devstats.startsWith("COUNTER "), devstats);
        assertTrue(devstats.lines().anyMatch(l -> l.matches("packets( +\\d+){4}")), devstats);

        // pp:monitor through the socket streams changes; leaving it (the client killed) frees its slot.
        Process monitor = new ProcessBuilder(java("-cp", "pagepool.jar", "pagepool.runtime.ControlClient",
                home.toString(), "pp:monitor", "--json")).directory(home.toFile()).start();
        java.util.concurrent.BlockingQueue<String> seen = new java.util.concurrent.LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> new java.io.BufferedReader(new java.io.InputStreamReader(
                monitor.getInputStream(), StandardCharsets.UTF_8)).lines().forEach(seen::add));
        reader.setDaemon(true);
        reader.start();
        String change = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (change == null || !change.contains("\"queue\":\"sim0/1\",\"provider\":\"heap\"")) {
            // Unbind once the monitor is subscribed: until then, bind and unbind again.
            Run u = ctl("pp:unbind", "sim0", "1");
            if (u.status() != 0) {
                ctl("pp:bind", "sim0", "1", "hugepage");
            }
            change = seen.poll(2, TimeUnit.SECONDS);
            while (change != null && !change.contains("\"queue\":\"sim0/1\",\"provider\":\"heap\"")) {
                change = seen.poll(200, TimeUnit.MILLISECONDS);
            }
            assertTrue(System.nanoTime() < deadline, "pp:monitor through the socket saw no change; saw " + seen);
        }
        monitor.destroy();
        assertTrue(monitor.waitFor(20, TimeUnit.SECONDS));
        for (int i = 0; i < ControlServer.MAX_CLIENTS + 2; i++) {
            assertEquals(0, ctl("pp:queues").status(), "a slot is free after " + i + " clients");
        }

        // A second runtime in this folder refuses, naming the first.
        Run second = exec(java("-jar", "pagepool.jar", "--daemon"), "");
        assertEquals(1, second.status());
        assertTrue(second.err().contains("a runtime already runs in " + home + " (pid " + daemon.pid() + ")"),
                second.err());

        // SIGTERM stops it cleanly: the framework stops, the socket goes, the folder is free again.
        daemon.destroy();
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "stopped on SIGTERM");
        assertFalse(Files.exists(ControlProtocol.socket(home)), "the socket is removed");
        try (InstanceLock lock = InstanceLock.tryAcquire(home)) {
            assertTrue(lock != null, "the lock went with the process");
        }
        assertEquals(2, ctl("pp:queues").status(), "no runtime answers");
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(f -> !f.toString().contains("config"))
                    .map(f -> dir.relativize(f) + " " + f.toFile().lastModified()).sorted().toList();
        }
    }

    @Test
    void anotherUserCannotReachTheSocketEvenWhenItsModesAreLoosened() throws Exception {
        Path setpriv = Path.of("/usr/bin/setpriv");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(setpriv),
                "needs root and setpriv to run a client as another user (nobody)");
        Path jvm = Path.of(ProcessHandle.current().info().command().orElseThrow());
        List<String> asNobody = new ArrayList<>(List.of(setpriv.toString(), "--reuid=65534", "--regid=65534",
                "--clear-groups", jvm.toString(), "-cp", "pagepool.jar", "pagepool.runtime.ControlClient",
                home.toString(), "pp:unbind", "sim0", "1"));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                ControlProtocol.socket(home).getParent())));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                ControlProtocol.socket(home))));
        Run denied = exec(asNobody, "");
        assertEquals(2, denied.status());
        assertTrue(denied.err().contains("Permission denied"), denied.err());
        // A careless chmod must not open it: the runtime checks the peer's credentials itself.
        Files.setPosixFilePermissions(ControlProtocol.socket(home).getParent(), PosixFilePermissions.fromString(
                "rwxr-xr-x"));
        Files.setPosixFilePermissions(ControlProtocol.socket(home), PosixFilePermissions.fromString("rw-rw-rw-"));
        Run refused = exec(asNobody, "");
        assertEquals(2, refused.status());
        assertTrue(refused.err().contains("control socket: user nobody (expected: root, the runtime's user)"),
                refused.err());
        // A client that sends nothing, or garbage, is answered in one line and let go.
        Run garbage = exec(List.of(jvm.toString(), "-cp", "pagepool.jar", "pagepool.runtime.ControlClient",
                home.toString(), "pp:queues"), "");
        assertEquals(0, garbage.status(), "the runtime's own user still gets in: " + garbage.err());
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                java.net.UnixDomainSocketAddress.of(ControlProtocol.socket(home)))) {
            ch.write(java.nio.ByteBuffer.wrap("GET / HTTP/1.1\n\n".getBytes(StandardCharsets.US_ASCII)));
            byte[] answer = java.nio.channels.Channels.newInputStream(ch).readAllBytes();
            String text = new String(answer, StandardCharsets.UTF_8);
            assertTrue(text.contains("request: 'GET / HTTP/1.1' (expected: the line 'pagepool-ctl 1', then commands)"),
                    text);
        }
        // Both refusals are listed where every refusal is.
        String problems = ctl("pp:problems --json").out();
        assertTrue(problems.contains("{\"source\":\"run/control.sock\",\"subject\":\"control socket\",\"message\":"
                + "\"user nobody (expected: root, the runtime's user)"), problems);
        assertTrue(problems.contains("request: 'GET / HTTP/1.1'"), problems);
    }

    /** An HTTP answer: status and body. */
    record Http(int status, String body) {
    }

    /**
     * One HTTP/1.1 request on a plain socket, so that Host and Origin are whatever a hostile page
     * would make them (Java's HTTP client will not forge Host).
     */
    private Http http(String method, String path, String host, String origin, String token, String form)
            throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host
                    + "\r\nConnection: close\r\n");
            if (origin != null) {
                req.append("Origin: ").append(origin).append("\r\n");
            }
            if (token != null) {
                req.append("X-Pagepool-Token: ").append(token).append("\r\n");
            }
            byte[] body = form == null ? new byte[0] : form.getBytes(StandardCharsets.UTF_8);
            if (form != null) {
                req.append("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ").append(body.length)
                        .append("\r\n");
            }
            OutputStream out = s.getOutputStream();
            out.write(req.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int status = Integer.parseInt(answer.substring(9, 12));
            int split = answer.indexOf("\r\n\r\n");
            return new Http(status, split < 0 ? "" : answer.substring(split + 4));
        }
    }

    @Test
    void aHostileBrowserCannotDriveTheHttpApi() throws Exception {
        String local = "127.0.0.1:" + port;
        await("the web answers", () -> {
            try {
                return http("GET", "/pagepool/api/queues", local, null, null, null).status() == 200;
            } catch (IOException e) {
                return false;
            }
        });
        Path tokenFile = home.resolve("run/http.token");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));
        String token = Files.readString(tokenFile).strip();
        String bind = "device=sim0&queues=1&provider=heap";
        String bindings = ctl("pp:bindings --json").out();

        // DNS rebinding: evil.example resolves to 127.0.0.1; the browser sends its own name as Host.
        Http rebound = http("GET", "/pagepool/api/queues", "evil.example:" + port, null, null, null);
        assertEquals(403, rebound.status());
        assertEquals("{\"error\":\"host: 'evil.example:" + port + "' (expected: one of [127.0.0.1, [::1], localhost],"
                + " or a name in pagepool.web.cfg's allowed.hosts)\"}", rebound.body());
        assertEquals(403, http("POST", "/pagepool/api/bind", "evil.example:" + port, "http://evil.example:" + port,
                token, bind).status());
        // A cross-site form post, and a cross-site fetch that would read.
        assertEquals(403, http("POST", "/pagepool/api/bind", local, "http://evil.example", null, bind).status());
        assertEquals(403, http("GET", "/pagepool/api/pools", local, "http://evil.example", null, null).status());
        assertEquals(403, http("GET", "/pagepool/api/changes", local, "null", null, null).status());
        // Writes need this start's token; TRACE and other methods are refused.
        Http missing = http("POST", "/pagepool/api/bind", local, null, null, bind);
        assertEquals(401, missing.status());
        assertTrue(missing.body().startsWith("{\"error\":\"token: missing"), missing.body());
        assertEquals(403, http("POST", "/pagepool/api/bind", local, "http://" + local, "wrong", bind).status());
        Http trace = http("TRACE", "/pagepool/api/queues", local, null, null, null);
        assertEquals(405, trace.status());
        assertFalse(trace.body().contains("Host:"), "TRACE echoes nothing");
        assertEquals(405, http("PUT", "/pagepool/api/bind", local, null, token, bind).status());
        assertEquals(bindings, ctl("pp:bindings --json").out(), "nothing was bound by any of them");
        // The page's own origin with the token works; reads stay open to loopback clients.
        Http ok = http("POST", "/pagepool/api/bind", local, "http://" + local, token, bind);
        assertEquals(200, ok.status(), ok.body());
        assertEquals(200, http("GET", "/metrics", "localhost:" + port, null, null, null).status());
        assertTrue(http("GET", "/pagepool", local, null, null, null).body().contains("content=\"" + token + "\""),
                "the page carries the token for its forms");

        String problems = ctl("pp:problems --json").out();
        for (String kind : List.of("host", "origin", "token", "method")) {
            assertTrue(problems.contains("\"subject\":\"http api (" + kind + ")\""), kind + ": " + problems);
        }
        String metrics = http("GET", "/metrics", local, null, null, null).body();
        assertTrue(metrics.contains("pagepool_http_refused_total{kind=\"host\"} 2"), metrics);

        // Writes off by configuration: even the token does not write.
        Files.writeString(home.resolve("load/pagepool.web.cfg"), "writes=off\n");
        await("writes off", () -> {
            try {
                // A POST that changes nothing while writes are on (404), to see when they go off.
                return http("POST", "/pagepool/api/nothing", local, null, token, "").body().contains("writes are off");
            } catch (IOException e) {
                return false;
            }
        });
        Http off = http("POST", "/pagepool/api/unbind", local, null, token, "device=sim0&queues=1");
        assertEquals(403, off.status(), off.body());
        assertTrue(ctl("pp:bindings --json").out().contains("\"queues\":[1],\"provider\":\"heap\""), "still bound");
    }
}

package pagepool.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input through the surfaces a user has: shell commands, {@code .cfg} files for devices,
 * bindings, the engine and the providers, and jars dropped into {@code load/}. Each is answered by
 * one line on the console naming the value and what was expected, with no exception class name or
 * stack trace, and changes nothing: {@code pp:queues}, {@code pp:pools} and {@code pp:bindings}
 * print the same JSON before and after. The table of cases is written to
 * {@code target/bad-inputs.md} (kept in {@code docs/bad-inputs.md}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadInputIT {

    /** One bad input: what it is given to, the input, and words its answer must contain. */
    record Case(String surface, String input, String expected) {
    }

    @TempDir
    static Path tmp;
    private static RunningRuntime rt;
    private static final List<String> TABLE = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        Path dist = Path.of(System.getProperty("pagepool.dist", "target/pagepool-runtime"));
        rt = new RunningRuntime(dist, tmp.resolve("runtime"), "-Dfelix.fileinstall.poll=100");
        rt.await("sim0 up on heap", () -> json("pp:queues --json").split("\"OK\"", -1).length == 5);
        rt.run("pp:traffic off");
        // Once traffic stops and the sockets have given their pages back, nothing moves.
        rt.await("the counters settle", () -> snapshot().equals(snapshot()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (rt != null) {
            rt.close();
        }
        if (taken != null) {
            taken.close();
        }
        Files.createDirectories(Path.of("target"));
        Files.write(Path.of("target/bad-inputs.md"), TABLE);
    }

    /** Everything a command printed, both streams. */
    private static String output(String command) {
        try {
            RunningRuntime.Result r = rt.run(command);
            return r.out() + "\n" + r.err();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static String json(String command) {
        try {
            return rt.run(command).outText();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** What must not change: the queues, the pools and the bindings, as scripts see them. */
    private static String snapshot() {
        return json("pp:queues --json") + "\n" + json("pp:pools --json") + "\n" + json("pp:bindings --json");
    }

    /** No Java exception's name, no stack frame, nothing but the line(s) expected. */
    private static void assertPlain(List<String> lines) {
        for (String l : lines) {
            assertFalse(l.matches(".*\\b(java|javax|org|pagepool)\\.[a-z.]+\\.[A-Z]\\w*(Exception|Error)\\b.*"), l);
            assertFalse(l.matches(".*\\b\\w+(Exception|Error):.*"), "an exception class name: " + l);
            assertFalse(l.startsWith("\tat ") || l.startsWith("Caused by"), "a stack trace: " + l);
        }
    }

    private static void row(Case c, String answer) {
        if (TABLE.isEmpty()) {
            TABLE.add("| # | surface | input | answer |");
            TABLE.add("|---|---|---|---|");
        }
        String input = c.input().strip();
        if (input.length() > 80) {
            input = input.substring(0, 40) + "... (" + input.length() + " characters)";
        }
        TABLE.add("| " + (TABLE.size() - 1) + " | " + c.surface() + " | `" + input.replace("\n", "`<br>`")
                .replace("|", "\\|") + "` | " + answer.replace("|", "\\|") + " |");
    }

    // ---- shell commands ------------------------------------------------------------------------

    private static DynamicTest command(String input, String expected) {
        Case c = new Case("shell", input, expected);
        return DynamicTest.dynamicTest(input, () -> {
            String before = snapshot();
            RunningRuntime.Result r = rt.run(input);
            assertEquals(List.of(), r.out(), "nothing on standard output for " + input);
            List<String> errors = r.err().stream().filter(l -> l.startsWith("error: ")).toList();
            assertEquals(1, errors.size(), "one line: " + r.err());
            assertTrue(errors.get(0).contains(expected), errors.get(0) + " (expected to contain: " + expected + ")");
            assertPlain(r.err());
            assertEquals(before, snapshot(), "state unchanged by " + input);
            row(c, errors.get(0).substring("error: ".length()));
        });
    }

    @TestFactory
    @Order(1)
    Stream<DynamicTest> shellCommands() {
        return Stream.of(
                command("pp:bind sim0 2147483647 heap", "queue 2147483647 is beyond the largest index 4095"),
                command("pp:bind sim0 0-2147483647 heap", "queue 2147483647 is beyond the largest index 4095"),
                command("pp:bind sim0 1,2, heap", "queues: '1,2,' (expected: a list like 1,2"),
                command("pp:bind sim0 1,,2 heap", "queues: '1,,2' (expected: a list like 1,2"),
                command("pp:bind sim0 -1 heap", "queues: '-1' (expected:"),
                command("pp:bind sim0 3-1 heap", "range 3-1 runs backwards"),
                command("pp:bind sim0 1,1 heap", "queue 1 is listed twice"),
                command("pp:bind sim0 x heap", "queues: 'x' (expected:"),
                command("pp:bind sim0 4 heap", "queue: 4 (expected: 0..3 on sim0)"),
                command("pp:bind eth9 1 heap", "device: 'eth9' is unknown (expected: one of [sim0])"),
                command("pp:bind sim0 1", "usage: pp:bind <device> <queues> <provider>"),
                command("pp:bind sim0 1 nosuch", "provider: 'nosuch' is not present (expected: one of [heap]"),
                command("pp:bind sim0 1 heap extra --json", "usage: pp:bind <device> <queues> <provider> [--json]"),
                command("pp:bind", "usage: pp:bind <device> <queues> <provider>"),
                command("pp:unbind sim0 1", "queue sim0/1 has no binding"),
                command("pp:unbind sim0 9", "queue: 9 (expected: 0..3 on sim0)"),
                command("pp:unbind eth9 1", "device: 'eth9' is unknown"),
                command("pp:unbind sim0", "usage: pp:unbind <device> <queues>"),
                command("pp:queues extra", "unexpected argument: 'extra' (expected: --json)"),
                command("pp:pools --jsn", "unexpected argument: '--jsn' (expected: at most 1 name and --json)"),
                command("pp:pools 999", "pool: 999 is unknown (expected: one of ["),
                command("pp:providers heap", "unexpected argument: 'heap' (expected: --json)"),
                command("pp:bindings all", "unexpected argument: 'all' (expected: --json)"),
                command("pp:devices sim0", "unexpected argument: 'sim0' (expected: --json)"),
                command("pp:problems now", "unexpected argument: 'now' (expected: --json)"),
                command("pp:devstats eth9", "device: 'eth9' is unknown (expected: one of [sim0])"),
                command("pp:devstats sim0 sim1", "unexpected argument: 'sim1' (expected: at most 1 name and --json)"),
                command("pp:traffic maybe", "carrier: 'maybe' (expected: on or off)"),
                command("pp:traffic off eth9", "device: 'eth9' is unknown"),
                command("pp:traffic", "usage: pp:traffic on|off [device]"),
                command("pp:provider_reset nope", "provider: 'nope' is unknown (expected: one of [heap])"),
                command("pp:provider_reset", "usage: pp:provider_reset <provider>"),
                command("pp:dmabuf_create 4K", "no device-memory provider: install provider.devmem"),
                command("pp:link sim0 sideways", "state: 'sideways' (expected: up or down)"),
                command("pp:link eth9 down", "device: 'eth9' is unknown (expected: one of [sim0])"),
                command("pp:pp_hold sim0 9 on", "queue: '9' (expected: 0..3 on sim0)"),
                command("pp:pp_hold sim0 1 maybe", "hold: 'maybe' (expected: on or off)"),
                command("pp:queue_reset sim0 1 sideways", "mode: 'sideways' (expected: pool, napi or napi-stopped-first)"),
                command("pp:queue_reset sim0 x", "queue: 'x' (expected: a queue index, see pp:queues)"),
                // One strict reading of every number: no sign on zero, no "+", no other script's digits.
                command("pp:queue_reset sim0 +1", "queue: '+1' (expected: a queue index, see pp:queues)"),
                command("pp:queue_reset sim0 -0", "queue: '-0' (expected: a queue index, see pp:queues)"),
                command("pp:queue_reset sim0 \u0661", "queue: '\u0661' (expected: a queue index, see pp:queues)"),
                command("pp:pp_hold sim0 \u0661 on", "queue: '\u0661' (expected: a queue index, see pp:queues)"),
                command("pp:pools +1", "pool: '+1' (expected: a pool id, see pp:pools)"),
                command("pp:udp_send 127.0.0.1:9", "no datagram sender: install driver.uring"),
                command("pp:help pp:nope", "command: 'pp:nope' (expected: one of pp:help's list)"),
                command("pp:help pp:bind pp:unbind", "usage: pp:help [command], e.g. pp:help pp:bind"),
                command("pp:monitor soon", "seconds: 'soon' (expected: an integer in 0..86400)"),
                command("pp:monitor +5", "seconds: '+5' (expected: an integer in 0..86400)"),
                command("pp:monitor 1 2", "usage: pp:monitor [seconds] [--json], e.g. pp:monitor 10"));
    }

    // ---- configuration files -------------------------------------------------------------------

    /** A configuration file that is refused: listed by pp:problems, said once, nothing else changes. */
    private static DynamicTest file(String name, String content, String expected) {
        Case c = new Case(name, content, expected);
        return DynamicTest.dynamicTest(name + ": " + content.replace('\n', ' '), () -> {
            String before = snapshot();
            int mark = rt.consoleSize();
            rt.write(name, content);
            rt.await(name + " refused", () -> json("pp:problems --json").contains("\"source\":\"" + name + "\""));
            String problems = json("pp:problems --json");
            assertTrue(problems.contains(expected), problems + " (expected to contain: " + expected + ")");
            List<String> said = rt.console(mark).stream().filter(l -> l.contains(name)).toList();
            assertEquals(1, said.size(), "said once: " + rt.console(mark));
            assertTrue(said.get(0).contains(expected), said.get(0));
            assertPlain(rt.console(mark));
            assertEquals(before, snapshot(), "state unchanged by " + name);
            if (name.startsWith("pagepool.sim.device") || name.startsWith("pagepool.uring.device")) {
                assertTrue(json("pp:devices --json").contains(expected), "pp:devices lists the refusal");
            }
            rt.delete(name);
            rt.await(name + " forgotten", () -> !json("pp:problems --json").contains("\"source\":\"" + name + "\""));
            assertEquals(before, snapshot(), "state unchanged once " + name + " is gone");
            row(c, said.get(0).substring(said.get(0).indexOf(": ") + 2));
        });
    }

    @TestFactory
    @Order(2)
    Stream<DynamicTest> deviceEngineAndProviderFiles() {
        String dev = "pagepool.sim.device-bad.cfg";
        return Stream.of(
                file(dev, "name=sim1\nrx.queues=0\n", "rx.queues: 0 (expected: 1..1024)"),
                file(dev, "name=sim1\nrx.queues=100000\n", "rx.queues: 100000 (expected: 1..1024)"),
                file(dev, "name=sim1\nring.size=1000\n", "ring.size: 1000 (expected: a power of 2 in 16..16384)"),
                file(dev, "name=sim1\nrate.pps=-5\n", "rate.pps: -5 (expected: 0..100000000)"),
                file(dev, "name=sim1\nrate.pps=abc\n", "rate.pps: 'abc' (expected: an integer)"),
                file(dev, "name=sim1\nrate.pps=+5\n", "rate.pps: '+5' (expected: an integer)"),
                file(dev, "name=sim1\nrate.pps=-0\n", "rate.pps: '-0' (expected: an integer)"),
                file(dev, "name=sim1\nheader.split=maybe\n", "header.split: 'maybe' (expected: true or false)"),
                file(dev, "name=sim1\nsocket.fraction=2\n", "socket.fraction: 2.0 (expected: 0.0..1.0)"),
                file(dev, "name=sim1\npacket.size.min=3000\npacket.size.max=2000\n",
                        "packet.size.min: 3000 (expected: at most packet.size.max 2000)"),
                file(dev, "name=\n", "name: '' (expected: a value that is not blank)"),
                // A device name is what Linux takes for an interface: no path, no space, no escape, 15 at most.
                file(dev, "name=../../sim0\n", "name: '../../sim0' (expected: a device name of 1..15 characters of"
                        + " A-Z a-z 0-9 . _ -, as Linux names an interface)"),
                file(dev, "name=sim 1\n", "name: 'sim 1' (expected: a device name of 1..15 characters"),
                file(dev, "name=sim\\u001b[31m1\n", "name: 'sim?[31m1' (expected: a device name of 1..15 characters"),
                file(dev, "name=" + "n".repeat(1000) + "\n", "name: '" + "n".repeat(40) + "'... (1000 characters)"
                        + " (expected: a device name of 1..15 characters"),
                file(dev, "name=sim0\n", "name: 'sim0' is taken by the device of pagepool.sim.device-sim0.cfg"),
                file(dev, "name=sim1\nrx_queues=8\n", "rx_queues: unknown key (expected: one of"),
                file(dev, "name=sim1\niotlb.ways=3\n", "iotlb.ways: 3 (expected: a divisor of iotlb.entries 64 that leaves a"
                        + " power-of-2 number of sets)"),
                file(dev, "name=sim1\nconsumer.threads=0\n", "consumer.threads: 0 (expected: 1..16)"),
                file(dev, "name=sim1\ndma.mask.bits=99\n", "dma.mask.bits: 99 (expected: 32..64)"),
                file(dev, "name=sim1\nnapi.threads=-1\n", "napi.threads: -1 (expected: 0..1024)"),
                file(dev, "name=sim1\nup=sideways\n", "up: 'sideways' (expected: true or false)"),
                // Inside every range, but 32 rings of 16,384 pages are 2 GiB: sized before anything is built.
                file(dev, "name=sim1\nrx.queues=32\nring.size=16384\n", "memory: 2147483648 bytes for the rings of"
                        + " pagepool.sim.device"),
                // What Config Admin never sees: a key written twice, a file far too large.
                file("pagepool.engine.cfg", "stall.millis=60000\nstall.millis=60000\n", "key 'stall.millis' is"
                        + " written 2 times, on lines [1, 2] (expected: each key once; the last one applies)"),
                file("pagepool.engine.cfg", "stall.millis=60000\n#" + "x".repeat(10_000_000) + "\n",
                        "the file is 10000021 bytes (expected: at most 65536; a configuration is a few lines)"),
                // A file nothing reads (a misspelt name) is said, not passed over.
                file("pagepool.engin.cfg", "stall.millis=5\n", "no running bundle reads pagepool.engin (expected: one"
                        + " of [pagepool.binding, pagepool.engine, "),
                file("pagepool.engine.cfg", "stall.millis=-1\n", "stall.millis: -1 (expected: >= 0); the engine keeps"),
                file("pagepool.engine.cfg", "retry.millis=0\n", "retry.millis: 0 (expected: 1..60000)"),
                file("pagepool.engine.cfg", "fault.limit=abc\n", "fault.limit: 'abc' (expected: an integer in 1..1000000)"),
                file("pagepool.engine.cfg", "stall.milis=5\n", "stall.milis: unknown key"),
                file("pagepool.provider.heap.cfg", "pool.max.bytes=100\n",
                        "pool.max.bytes: 100 (expected: 262144..1125899906842624); the heap provider keeps"),
                file("pagepool.provider.heap.cfg", "slab.cache.bytes=-1\n", "slab.cache.bytes: -1 (expected: 0.."));
    }

    /** A binding file that cannot apply: listed as a failed binding with its reason, binds nothing. */
    private static DynamicTest binding(String content, String expected) {
        String name = "pagepool.binding-bad.cfg";
        Case c = new Case(name, content, expected);
        return DynamicTest.dynamicTest(name + ": " + content.replace('\n', ' '), () -> {
            String queues = json("pp:queues --json");
            String pools = json("pp:pools --json");
            String before = snapshot();
            int mark = rt.consoleSize();
            rt.write(name, content);
            rt.await(name + " listed", () -> json("pp:bindings --json").contains("file " + name));
            String bindings = json("pp:bindings --json");
            assertTrue(bindings.contains("\"state\":\"FAILED\"") && bindings.contains(expected),
                    bindings + " (expected to contain: " + expected + ")");
            String problems = json("pp:problems --json");
            assertTrue(problems.contains("\"source\":\"file " + name + "\"") && problems.contains(expected),
                    "pp:problems lists the failed binding: " + problems);
            assertEquals(queues, json("pp:queues --json"), "binds nothing");
            assertEquals(pools, json("pp:pools --json"));
            List<String> said = rt.console(mark).stream().filter(l -> l.contains(name)).toList();
            assertEquals(1, said.size(), "said once: " + rt.console(mark));
            assertTrue(said.get(0).contains(expected), said.get(0));
            assertPlain(rt.console(mark));
            rt.delete(name);
            rt.await(name + " forgotten", () -> !json("pp:bindings --json").contains("file " + name));
            assertFalse(json("pp:problems --json").contains("file " + name), "no longer a problem");
            assertEquals(before, snapshot(), "state unchanged once " + name + " is gone");
            row(c, said.get(0).substring(said.get(0).indexOf(": ") + 2));
        });
    }

    @TestFactory
    @Order(3)
    Stream<DynamicTest> bindingFiles() {
        return Stream.of(
                binding("device=sim0\nqueues=one\nprovider=heap\n", "queues: 'one' (expected: a list like 1,2"),
                binding("device=sim0\nqueues=0-2147483647\nprovider=heap\n",
                        "queue 2147483647 is beyond the largest index 4095"),
                binding("device=sim0\nqueues=1,2,\nprovider=heap\n", "queues: '1,2,' (expected:"),
                binding("queues=1\nprovider=heap\n", "device: '' (expected: a device name)"),
                binding("device=sim0\nqueues=1\nprovider=\n", "provider: '' (expected: a provider name)"),
                binding("device=sim0\nqueues=9\nprovider=heap\n", "queue: 9 (expected: 0..3 on sim0)"),
                binding("device=sim0\nprovider=heap\n", "queues: '' (expected: a list like 1,2"),
                binding("device=sim0\nqueues=1\nqueuez=2\nprovider=heap\n", "queuez: unknown key (expected: one of"
                        + " device, provider, queues)"));
    }

    // ---- jars in load/ -------------------------------------------------------------------------

    private static DynamicTest jar(String name, byte[] content, String expected) {
        Case c = new Case(name, "(" + content.length + " bytes)", expected);
        return DynamicTest.dynamicTest(name, () -> {
            String before = snapshot();
            int mark = rt.consoleSize();
            rt.write(name, content);
            rt.await(name + " refused", () -> json("pp:problems --json").contains("\"source\":\"" + name + "\""));
            List<String> said = rt.console(mark).stream().filter(l -> l.contains(name)).toList();
            assertEquals(1, said.size(), "said once: " + rt.console(mark));
            assertTrue(said.get(0).contains(expected), said.get(0));
            assertPlain(rt.console(mark));
            assertEquals(before, snapshot());
            rt.delete(name);
            rt.await(name + " forgotten", () -> !json("pp:problems --json").contains("\"source\":\"" + name + "\""));
            row(c, said.get(0).substring(said.get(0).indexOf(": ") + 2));
        });
    }

    private static byte[] zip(boolean manifest, String symbolicName) throws IOException {
        return zip(manifest, symbolicName, null);
    }

    /** A bundle jar with these manifest headers (Bundle-ManifestVersion 2 unless given). */
    private static byte[] zip(Map<String, String> headers) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
        headers.forEach(m.getMainAttributes()::putValue);
        try (JarOutputStream j = new JarOutputStream(b, m)) {
            j.putNextEntry(new ZipEntry("a.txt"));
            j.write("a".getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    private static byte[] zip(boolean manifest, String symbolicName, String fragmentHost) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (manifest) {
            Manifest m = new Manifest();
            m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
            if (symbolicName != null) {
                m.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
                m.getMainAttributes().putValue("Bundle-SymbolicName", symbolicName);
            }
            if (fragmentHost != null) {
                m.getMainAttributes().putValue("Fragment-Host", fragmentHost);
            }
            try (JarOutputStream j = new JarOutputStream(b, m)) {
                j.putNextEntry(new ZipEntry("a.txt"));
                j.write("a".getBytes(StandardCharsets.UTF_8));
            }
        } else {
            try (ZipOutputStream z = new ZipOutputStream(b)) {
                z.putNextEntry(new ZipEntry("a.txt"));
                z.write("a".getBytes(StandardCharsets.UTF_8));
            }
        }
        return b.toByteArray();
    }

    @TestFactory
    @Order(4)
    Stream<DynamicTest> jarsInTheLoadFolder() throws IOException {
        byte[] random = new byte[3000];
        new Random(42).nextBytes(random);
        return Stream.of(
                jar("random.jar", random, "not a bundle: it is not a readable jar"),
                jar("header.jar", new byte[] {'P', 'K', 3, 4}, "not a bundle: it is not a readable jar"),
                jar("plain.jar", zip(false, null), "not a bundle: the jar has no manifest"),
                jar("nobsn.jar", zip(true, null), "not a bundle: its manifest has no Bundle-SymbolicName"),
                // Bundles that would harm the running framework or the runtime's own bundles.
                jar("extension.jar", zip(true, "evil.extension", "system.bundle; extension:=framework"),
                        "a fragment of the framework (Fragment-Host: system.bundle) (expected: a bundle; a framework"
                                + " extension would change or stop the running framework)"),
                jar("engine-fragment.jar", zip(true, "evil.fragment", "pagepool.engine"), "a fragment of"
                        + " pagepool.engine, a bundle the runtime starts with (expected: a bundle; attaching to it"
                        + " would refresh it"),
                jar("engine-again.jar", zip(true, "pagepool.engine"), "its symbolic name pagepool.engine is the"
                        + " runtime's own bundle's (expected: a bundle of a name of its own"),
                // What the framework would refuse with a stack trace: said in one line instead.
                jar("bad-version.jar", zip(Map.of("Bundle-SymbolicName", "x.v", "Bundle-Version", "1.x")),
                        "its Bundle-Version '1.x' is not a version (expected: major.minor.micro.qualifier"),
                jar("bad-range.jar", zip(Map.of("Bundle-SymbolicName", "x.r", "Import-Package",
                        "org.osgi.framework;version=\"[1,x)\"")), "its Import-Package has version '[1,x)', which is"
                                + " not a version range"),
                jar("manifest-v1.jar", zip(Map.of("Bundle-SymbolicName", "x.m", "Bundle-ManifestVersion", "1")),
                        "its Bundle-ManifestVersion is '1' (expected: 2)"),
                // Taken, but it does not start: listed with the framework's reason, its trace in the log only.
                jar("unresolved.jar", zip(Map.of("Bundle-SymbolicName", "x.u", "Import-Package", "no.such.pkg")),
                        "bundle x.u does not resolve: Unable to resolve x.u"),
                jar("no-activator.jar", zip(Map.of("Bundle-SymbolicName", "x.a", "Bundle-Activator", "x.NoSuchClass")),
                        "bundle x.a resolved but did not start: its activator failed"));
    }

    // ---- with the device-memory and huge-page providers installed ------------------------------

    @TestFactory
    @Order(5)
    Stream<DynamicTest> withDeviceMemoryAndHugePages() throws Exception {
        for (String p : List.of("provider.devmem", "provider.hugepage")) {
            rt.installExtra(p);
        }
        rt.await("both providers up", () -> json("pp:providers --json").contains("\"hugepage\"")
                && json("pp:dmabufs --json").startsWith("{"));
        rt.await("the counters settle", () -> snapshot().equals(snapshot()));
        String buffer = json("pp:dmabuf_create 1M").replaceAll("buffer (\\d+):.*", "$1");
        return Stream.of(
                command("pp:dmabuf_create 1024G", "size: 1099511627776 (expected: a positive multiple of 4096, at most"),
                command("pp:dmabuf_create 5000", "size: 5000 (expected: a positive multiple of 4096"),
                command("pp:dmabuf_create -4K", "size: '-4K' (expected: a positive number of bytes"),
                command("pp:dmabuf_create abc", "size: 'abc' (expected: a positive number of bytes"),
                command("pp:dmabuf_create 0", "size: '0' (expected: a positive number of bytes"),
                command("pp:dmabuf_create 99999999999999999999", "size: '99999999999999999999' (expected:"),
                command("pp:dmabuf_create", "usage: pp:dmabuf_create <bytes>"),
                command("pp:dmabuf_bind 99 sim0 1", "buffer: 99 is unknown (expected: one of [" + buffer + "])"),
                command("pp:dmabuf_bind x sim0 1", "buffer: 'x' (expected: a buffer id, see pp:dmabufs)"),
                command("pp:dmabuf_bind " + buffer + " sim0 1", "sim0 has header split off (expected: a device with"
                        + " header split on)"),
                command("pp:dmabuf_bind " + buffer + " eth9 1", "device: 'eth9' is unknown"),
                command("pp:dmabuf_bind " + buffer + " sim0 1,,2", "queues: '1,,2' (expected:"),
                command("pp:dmabuf_unbind 99", "dmabuf-binding: 99 is unknown (expected: one of [])"),
                command("pp:dmabuf_unbind x", "dmabuf-binding: 'x' (expected: a dma-buf binding id, see pp:dmabufs)"),
                command("pp:dmabuf_destroy 99", "buffer: 99 is unknown (expected: one of [" + buffer + "])"),
                command("pp:dmabuf_destroy -3", "buffer: '-3' (expected: a buffer id, see pp:dmabufs)"),
                file("pagepool.provider.hugepage.cfg", "pages=0\n", "pages: 0 (expected: 1..65536); the provider keeps"),
                file("pagepool.provider.hugepage.cfg", "page.size=3M\n", "page.size: '3M' (expected: one of"),
                file("pagepool.provider.hugepage.cfg", "on.exhaustion=drop\n",
                        "on.exhaustion: 'drop' (expected: one of fail, fallback)"),
                file("pagepool.provider.devmem.cfg", "memory.bytes=5000\n",
                        "memory.bytes: 5000 (expected: a multiple of 4096); device memory stays"));
    }

    // ---- with the UDP driver installed ------------------------------------------------------------

    /** A port another socket holds, for as long as the tests run. */
    private static DatagramSocket taken;

    @TestFactory
    @Order(6)
    Stream<DynamicTest> withTheUdpDriver() throws Exception {
        rt.installExtra("driver.uring");
        rt.await("the datagram sender", () -> !json("pp:help").isEmpty() && !output("pp:udp_send")
                .contains("no datagram sender"));
        taken = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        int port = taken.getLocalPort();
        String dev = "pagepool.uring.device-bad.cfg";
        return Stream.of(
                file(dev, "name=udp1\nport=70000\n", "port: 70000 (expected: 0..65535)"),
                file(dev, "name=udp1\nrx.queues=0\n", "rx.queues: 0 (expected: 1..64)"),
                file(dev, "name=udp1\nring.size=1000\n", "ring.size: 1000 (expected: a power of 2 in 16..16384)"),
                file(dev, "name=udp1\nring.size=65536\n", "ring.size: 65536 (expected: a power of 2 in 16..16384)"),
                file(dev, "name=udp1\npage.order=7\n", "page.order: 7 (expected: 0..4)"),
                file(dev, "name=udp1\nbind.address=::1\n", "bind.address: '::1' (expected: an IPv4 address)"),
                file(dev, "name=udp1\nbind.address=no.such.host.invalid\n", "bind.address: 'no.such.host.invalid'"
                        + " (expected: an IPv4 address or a host name that resolves to one)"),
                file(dev, "name=udp1\nio.uring=perhaps\n", "io.uring: 'perhaps' (expected: true or false)"),
                file(dev, "name=udp1\ncoalesce.usecs=-1\n", "coalesce.usecs: -1 (expected: 0..10000)"),
                file(dev, "name=udp1\nadaptive.rx=true\ncoalesce.usecs=50\n", "coalesce.usecs: 50 (expected: 0 with"
                        + " adaptive.rx: the adaptive policy sets the wait)"),
                file(dev, "name=udp1\nrx_queues=2\n", "rx_queues: unknown key (expected: one of"),
                file(dev, "name=udp1\ngro=true\n", "page.order: 0 (expected: 4 with gro: a coalesced buffer holds up to"
                        + " 64 KiB)"),
                file(dev, "name=sim0\nport=0\n", "name: 'sim0' is taken by the device of bundle driver.sim (expected: a name no other"
                        + " device has)"),
                file(dev, "name=udp1\nport=" + port + "\n", "bind 127.0.0.1:" + port + ": EADDRINUSE (address in use);"
                        + " no device is created"),
                command("pp:udp_send", "usage: pp:udp_send <device|host:port> [size] [count] [rate]"),
                command("pp:udp_send sim0", "device: 'sim0' has no address (expected: a UDP device, e.g. udp0)"),
                command("pp:udp_send nowhere", "target: 'nowhere' (expected: a device or host:port)"),
                command("pp:udp_send 127.0.0.1:0", "port: '0' (expected: an integer in 1..65535)"),
                command("pp:udp_send 127.0.0.1:9 10", "size: '10' (expected: an integer in 64..65507)"),
                command("pp:udp_send 127.0.0.1:9 100 0", "count: '0' (expected: an integer of at least 1)"),
                command("pp:udp_send 127.0.0.1:9 100 5 fast", "rate: 'fast' (expected: an integer)"),
                command("pp:udp_send 127.0.0.1:9 +100", "size: '+100' (expected: an integer)"),
                command("pp:udp_send no.such.host.invalid:9", "host: 'no.such.host.invalid' (expected: an IPv4 address"
                        + " or a name that resolves)"));
    }

    // ---- with the AF_XDP driver installed ----------------------------------------------------------

    @TestFactory
    @Order(7)
    Stream<DynamicTest> withTheXdpDriver() throws Exception {
        rt.installExtra("driver.xdp");
        String dev = "pagepool.xdp.device-bad.cfg";
        return Stream.of(
                file(dev, "name=xdp1\ninterface=ppnone0\n", "interface: 'ppnone0' (expected: an interface of this host's"
                        + " network namespace; ip link lists them); no device is created"),
                file(dev, "name=xdp1\ninterface=lo\nrx.queues=2\n", "rx.queues: 2 (expected: at most 1, the RX queues lo"
                        + " has); no device is created"),
                file(dev, "name=xdp1\ninterface=lo\n", "lo: attaching the XDP program in native mode: "),
                file(dev, "name=xdp1\ninterface=lo\nrx.queues=0\n", "rx.queues: 0 (expected: 1..64)"),
                file(dev, "name=xdp1\ninterface=lo\nring.size=1000\n", "ring.size: 1000 (expected: a power of 2 in"
                        + " 64..32768)"),
                file(dev, "name=xdp1\ninterface=lo\nring.size=4096\numem.frames=4096\n", "umem.frames: 4096 (expected:"
                        + " 8192..1048576)"),
                file(dev, "name=xdp1\ninterface=lo\nmode=turbo\n", "mode: 'turbo' (expected: one of generic, native)"),
                file(dev, "name=xdp1\ninterface=lo\nports=70000\n", "ports: 70000 (expected: 1..65535)"),
                file(dev, "name=xdp1\ninterface=lo\nports=9000,x\n", "ports: 'x' (expected: UDP port numbers separated"
                        + " by commas, e.g. 9000,9001)"),
                file(dev, "name=xdp1\ninterface=lo\nports=9000,9000\n", "ports: [9000, 9000] (expected: each port"
                        + " once)"),
                file(dev, "name=xdp1\ninterface=lo\nports=1,2,3,4,5,6,7,8,9\n", "ports: [1, 2, 3, 4, 5, 6, 7, 8, 9]"
                        + " (expected: 1 to 8 UDP ports)"),
                file(dev, "name=xdp1\ninterface=a/b\n", "interface: a/b (expected: an interface name of 1 to 15"
                        + " characters)"),
                file(dev, "name=xdp1\nzero.copy=maybe\n", "zero.copy: 'maybe' (expected: true or false)"),
                file(dev, "name=xdp1\nrx_queues=2\n", "rx_queues: unknown key (expected: one of"));
    }
}

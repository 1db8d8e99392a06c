package pagepool.runtime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The assembled runtime, run as a user runs it: a copy of {@code target/pagepool-runtime} in a
 * folder of its own, started with {@code --exec -}, commands written to its standard input, its
 * standard output and error read back, files dropped into its {@code load/} folder.
 */
final class RunningRuntime implements AutoCloseable {

    private static final String MARKER = "@@pagepool-test-done@@";
    private static final long COMMAND_TIMEOUT_SECONDS = 60;

    /** What one command printed. */
    record Result(List<String> out, List<String> err) {
        String outText() {
            return String.join("\n", out);
        }
    }

    final Path home;
    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> out = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> err = new LinkedBlockingQueue<>();
    /** Every line of standard error, for what the console showed between commands. */
    private final List<String> console = new ArrayList<>();

    /**
     * The assembled runtime (the build's, or -Dpagepool.dist) in {@code home}, its load folder
     * polled every 100 ms, with the web on {@code port}.
     */
    static RunningRuntime withWeb(Path home, int port) throws IOException {
        return new RunningRuntime(Path.of(System.getProperty("pagepool.dist", "target/pagepool-runtime")), home,
                "-Dfelix.fileinstall.poll=100", "-Dpagepool.web=true", "-Dorg.osgi.service.http.port=" + port);
    }

    RunningRuntime(Path dist, Path home, String... jvmProperties) throws IOException {
        this.home = home;
        copy(dist, home);
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("--sun-misc-unsafe-memory-access=allow");
        cmd.add("-Dpagepool.exec.marker=" + MARKER);
        cmd.addAll(List.of(jvmProperties));
        cmd.add("-jar");
        cmd.add("pagepool.jar");
        cmd.add("--exec");
        cmd.add("-");
        process = new ProcessBuilder(cmd).directory(home.toFile()).start();
        stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        pump(process.getInputStream(), out, "stdout");
        pump(process.getErrorStream(), err, "stderr");
    }

    static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path rel = from.relativize(f);
                if (rel.startsWith("felix-cache") || rel.startsWith("log")) {
                    continue;
                }
                Path target = to.resolve(rel.toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void pump(InputStream in, BlockingQueue<String> lines, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null;) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(" + name + " closed: " + e.getMessage() + ")");
            }
        }, "runtime-" + name);
        t.setDaemon(true);
        t.start();
    }

    /** Hot-installs a bundle the runtime ships in extra/: copies it into load/, as a user does. */
    void installExtra(String symbolicName) throws IOException {
        try (java.util.stream.Stream<Path> s = Files.list(home.resolve("extra"))) {
            Path jar = s.filter(f -> f.getFileName().toString().startsWith(symbolicName + "-")).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + symbolicName + " in " + home.resolve("extra")));
            Files.copy(jar, load(jar.getFileName().toString()));
        }
    }

    /** A TCP port nothing listens on now, for the runtime's web server. */
    static int freePort() throws IOException {
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            return free.getLocalPort();
        }
    }

    /** What one shell command printed on standard output, as one text. */
    String text(String command) {
        try {
            return run(command).outText();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Runs one shell command and returns what it printed on each stream. */
    Result run(String command) throws IOException, InterruptedException {
        stdin.write(command + "\n");
        stdin.flush();
        return new Result(until(out, command, false), until(err, command, true));
    }

    private List<String> until(BlockingQueue<String> lines, String command, boolean isConsole)
            throws InterruptedException {
        List<String> got = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(COMMAND_TIMEOUT_SECONDS);
        while (true) {
            String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("no answer to '" + command + "' within " + COMMAND_TIMEOUT_SECONDS
                        + " s; so far: " + got + (process.isAlive() ? "" : " (the runtime exited)"));
            }
            if (line.equals(MARKER)) {
                return got;
            }
            got.add(line);
            if (isConsole) {
                synchronized (console) {
                    console.add(line);
                }
            }
        }
    }

    /** Lines of standard error printed so far, from index {@code from} on. */
    List<String> console(int from) {
        synchronized (console) {
            return List.copyOf(console.subList(Math.min(from, console.size()), console.size()));
        }
    }

    int consoleSize() {
        synchronized (console) {
            return console.size();
        }
    }

    Path load(String name) {
        return home.resolve("load").resolve(name);
    }

    void write(String name, String content) throws IOException {
        Path tmp = home.resolve(name + ".tmp");
        Files.writeString(tmp, content);
        // Moved in whole, so FileInstall never reads half a file.
        Files.move(tmp, load(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    void write(String name, byte[] content) throws IOException {
        Path tmp = home.resolve(name + ".tmp");
        Files.write(tmp, content);
        Files.move(tmp, load(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    void delete(String name) throws IOException {
        Files.deleteIfExists(load(name));
    }

    /** Waits for a condition checked with commands, e.g. until a problem is listed. */
    void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            stdin.close();
        } catch (IOException e) {
            // exited already
        }
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}

package pagepool.runtime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.logging.ConsoleHandler;
import java.util.logging.FileHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.startlevel.BundleStartLevel;

/**
 * Starts Felix with every bundle in {@code bundle/}, FileInstall watching {@code load/}, and
 * either the interactive Gogo shell or, with {@code --exec "cmd; cmd"}, runs the commands
 * through Gogo's CommandProcessor and exits (status 1 if a command failed). With
 * {@code --exec -} the commands come from standard input, one per line, each run as it arrives.
 * In both, standard output carries the commands' output only, and errors go to standard error.
 * {@code --daemon} runs without a terminal, for systemd; SIGTERM stops the framework cleanly.
 *
 * <p>One runtime per folder ({@link InstanceLock}): a second start there refuses, naming the
 * first's pid, and {@code --exec} sends its commands to the running one over its control socket
 * ({@link ControlServer}, which the interactive and daemon runtimes open) instead of starting a
 * second framework on the same cache.
 *
 * <p>The console shows one line per logged event; the details (traces, logger names) go to
 * {@code log/pagepool.log}. A {@code config.file} given by the user wins.
 *
 * <p>A bundle that declares a start level ({@code Provide-Capability:
 * pagepool.startlevel;level:Long=2}: the drivers, so their queues start on the memory their
 * bindings name, after the engine and the providers) gets it, up to 2.
 *
 * <p>The web page's bundles (what the build's resolution of the web adds: Felix HTTP, pagepool.web
 * and their kin, in {@code bundle/web/}) are installed at start level 3 when the web starts: the
 * interactive shell starts it after the prompt, {@code --exec} only with {@code -Dpagepool.web=true}.
 */
public final class Launcher {

    private static final long READY_TIMEOUT_MS = 10_000;
    /** The drivers' start level, and the highest a bundle may declare for itself. */
    private static final int DRIVER_START_LEVEL = 2;
    /** FileInstall's logger, held so its configuration is not collected with an unreferenced logger. */
    private static final Logger FILE_INSTALL = Logger.getLogger("fileinstall");
    /** After the prompt, so they cost start-up nothing: bundle/later/ (JSON), and the web's stack. */
    private static final int AFTER_PROMPT_START_LEVEL = 3;

    private Launcher() {
    }

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable e) {
            System.err.println("pagepool: " + e);
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        long t0 = System.nanoTime();
        // The process's own streams: Gogo later puts a per-thread stream in System.out that
        // forwards to the session's, so a session made on System.out would write into itself.
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        // Jetty logs through SLF4J with no provider on purpose (see felix.properties): say nothing of it.
        if (System.getProperty("slf4j.internal.verbosity") == null) {
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
        Path home = home();
        String exec = null;
        boolean daemon = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--exec", "-e" -> {
                    if (i + 1 >= args.length) {
                        usage("--exec needs the commands to run, e.g. --exec \"pp:queues; pp:pools\"");
                    }
                    exec = args[++i];
                }
                case "--daemon" -> daemon = true;
                case "--help", "-h" -> usage(null);
                default -> usage("unknown argument: '" + args[i] + "'");
            }
        }
        if (daemon && exec != null) {
            usage("--daemon and --exec: one or the other");
        }
        // Before the framework touches felix-cache/ (its first init wipes it): one runtime per folder.
        InstanceLock lock = InstanceLock.tryAcquire(home);
        if (lock == null) {
            if (exec != null && Files.exists(ControlProtocol.socket(home))) {
                // The commands go to the instance that runs here, never to a second framework.
                System.exit(ControlClient.send(home, true, script(exec), stdout, stderr));
            }
            if (exec != null) {
                System.err.println("pagepool: another --exec holds " + home + " (" + InstanceLock.holder(home)
                        + ") and serves no socket; run again when it ends");
                System.exit(1);
            }
            System.err.println("pagepool: a runtime already runs in " + home + " (" + InstanceLock.holder(home)
                    + "); reach it with './pagepool ctl <command>', or stop it first");
            System.exit(1);
        }
        // The hook keeps the lock reachable for the process's life: a lock whose channel the GC
        // collected would be released under the running instance.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                lock.close();
            } catch (IOException e) {
                // the process is going; the kernel drops the lock with it
            }
        }, "pagepool-unlock"));
        configureLogging(home, exec != null);
        Framework fw = newFramework(home, exec != null || daemon);
        fw.init();
        long tInit = System.nanoTime();
        boolean timing = Boolean.getBoolean("pagepool.timing");
        List<String> started = new ArrayList<>();
        if (timing) {
            // When each bundle is up, from the framework's start.
            fw.getBundleContext().addBundleListener((SynchronousBundleListener) e -> {
                if (e.getType() == BundleEvent.STARTED) {
                    started.add(e.getBundle().getSymbolicName() + " "
                            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - tInit) + " ms");
                }
            });
        }
        List<Bundle> installed = install(fw.getBundleContext(), home.resolve("bundle"), exec != null || daemon, 1);
        Path later = home.resolve("bundle").resolve("later");
        if (Files.isDirectory(later)) { // after the prompt: nothing needs them before
            installed = new ArrayList<>(installed);
            installed.addAll(install(fw.getBundleContext(), later, false, AFTER_PROMPT_START_LEVEL));
        }
        long tInstall = System.nanoTime();
        // Marked for start before the framework starts, so start levels order them: drivers come
        // up after the engine and the providers they will take memory from.
        for (Bundle b : installed) {
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                try {
                    b.start();
                } catch (BundleException e) {
                    // One bundle that does not resolve should not take the runtime down: say which.
                    System.err.println("pagepool: " + b.getSymbolicName() + " did not start: " + e.getMessage());
                }
            }
        }
        fw.start();
        if (timing) {
            System.err.printf("pagepool: JVM %d ms, init %d ms, install %d ms, start %d ms%n",
                    ManagementFactory.getRuntimeMXBean().getUptime() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime()
                            - t0), (tInit - t0) / 1_000_000, (tInstall - tInit) / 1_000_000,
                    (System.nanoTime() - tInstall) / 1_000_000);
            System.err.println("pagepool: started (ms since init): " + String.join(", ", started));
        }
        long upMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        if (exec == null) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(fw), "pagepool-shutdown"));
            String web = startWeb(fw, home);
            control(fw, home);
            System.out.println("pagepool: Felix up with " + installed.size() + " bundles in " + upMillis + " ms"
                    + (daemon ? " (pid " + ProcessHandle.current().pid() + "); './pagepool ctl pp:help' from another"
                            + " terminal; SIGTERM stops it." : "; try 'pp:help', 'pp:queues', 'pp:devstats'. Ctrl-D or"
                            + " 'stop 0' to leave; './pagepool ctl <command>' from another terminal.")
                    + (web == null ? "" : " Live page: " + web));
            fw.waitForStop(0);
            System.exit(0);
        }
        if (Boolean.getBoolean("pagepool.web")) {
            startWeb(fw, home); // for scripts and tests that also want the page (-Dpagepool.web=true)
        }
        int status = execute(fw, exec, stdout, stderr);
        fw.stop();
        fw.waitForStop(10_000);
        System.exit(status);
    }

    private static void usage(String problem) {
        PrintStream out = problem == null ? System.out : System.err;
        if (problem != null) {
            out.println("pagepool: " + problem);
        }
        out.println("usage: pagepool                     Felix with the interactive Gogo shell");
        out.println("       pagepool --daemon            Felix without a terminal (systemd); SIGTERM stops it");
        out.println("       pagepool --exec \"c1; c2\"     run shell commands, print their output, exit; where a");
        out.println("                                    runtime runs in this folder, they run in it");
        out.println("       pagepool --exec -            the same, the commands read from standard input, one per line");
        out.println("       pagepool ctl <command>|-     send commands to the runtime running in this folder");
        System.exit(problem == null ? 0 : 2);
    }

    /** The runtime folder: where this jar sits, or {@code -Dpagepool.home}. */
    private static Path home() throws URISyntaxException {
        String prop = System.getProperty("pagepool.home");
        if (prop != null) {
            return Path.of(prop).toAbsolutePath();
        }
        return Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
    }

    private static Framework newFramework(Path home, boolean batch) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(home.resolve("conf/felix.properties"))) {
            p.load(in);
        }
        Map<String, String> config = new HashMap<>();
        for (String k : p.stringPropertyNames()) {
            config.put(k, p.getProperty(k));
        }
        for (String k : List.of(Constants.FRAMEWORK_STORAGE, "felix.fileinstall.dir", "felix.cm.dir")) {
            if (config.containsKey(k)) {
                config.put(k, home.resolve(config.get(k)).toString());
            }
        }
        // System properties win, so a user can override any setting with -D.
        for (String k : System.getProperties().stringPropertyNames()) {
            if (k.startsWith("felix.") || k.startsWith("org.osgi.") || k.startsWith("org.apache.felix.")
                    || k.startsWith("ds.") || k.startsWith("gosh.")) {
                config.put(k, System.getProperty(k));
            }
        }
        if (batch) {
            config.put("gosh.args", "--nointeractive");
        }
        // Where bundles that keep files for the operator (the HTTP token) put them: run/.
        config.put("pagepool.home", home.toString());
        config.putIfAbsent(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, String.valueOf(DRIVER_START_LEVEL));
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path (expected: lib/"
                        + "org.apache.felix.framework-*.jar next to pagepool.jar)"));
        return factory.newFramework(config);
    }

    /**
     * Installs the jars of {@code dir} at {@code level} (bundle/: what the runtime starts before its
     * prompt; bundle/later/: after it); without a terminal (batch), the jline shell is left out. The
     * web's jars are in bundle/web/, installed by {@link #startWeb} only: installing a bundle costs a
     * few milliseconds (its manifest parsed, the jar copied into the cache), which neither the prompt
     * nor a one-shot {@code --exec} should pay.
     */
    private static List<Bundle> install(BundleContext ctx, Path dir, boolean batch, int level)
            throws IOException, BundleException {
        List<Path> jars;
        try (Stream<Path> s = Files.list(dir)) {
            // The shell first: Felix starts the bundles of a start level in install order, and the
            // console's terminal set-up then runs on its own thread while the rest starts.
            jars = s.filter(f -> f.toString().endsWith(".jar") && Files.isRegularFile(f))
                    .sorted(Comparator.comparing((Path f) -> !isShell(f.getFileName().toString())).thenComparing(f -> f))
                    .toList();
        }
        List<Bundle> out = new ArrayList<>();
        for (Path jar : jars) {
            String name = jar.getFileName().toString();
            if (batch && (name.startsWith("org.apache.felix.gogo.jline") || name.startsWith("jline-"))) {
                continue;
            }
            out.add(install(ctx, jar, level));
        }
        return out;
    }

    /** Installs a jar at the start level it declares, else at {@code level}. */
    private static Bundle install(BundleContext ctx, Path jar, int level) throws BundleException {
        Bundle b = ctx.installBundle(jar.toUri().toString());
        int declared = declaredStartLevel(b);
        int at = declared > 1 ? declared : level;
        if (at > 1) {
            b.adapt(BundleStartLevel.class).setStartLevel(at);
        }
        return b;
    }

    /**
     * The start level a bundle declares ({@code Provide-Capability: pagepool.startlevel;level:Long=N}:
     * the drivers, after the engine and the providers), or 1.
     */
    static int declaredStartLevel(Bundle b) {
        org.osgi.framework.wiring.BundleRevision r = b.adapt(org.osgi.framework.wiring.BundleRevision.class);
        if (r != null) {
            for (org.osgi.framework.wiring.BundleCapability c : r.getDeclaredCapabilities("pagepool.startlevel")) {
                if (c.getAttributes().get("level") instanceof Long level && level >= 1 && level <= DRIVER_START_LEVEL) {
                    return level.intValue();
                }
            }
        }
        return 1;
    }

    /**
     * Starts the web page's bundles (start level 3) on the framework's own thread; returns the
     * page's address, or null when that address is taken by another program: then the page is
     * not advertised, and pagepool.web lists the clash in pp:problems.
     */
    private static String startWeb(Framework fw, Path home) {
        BundleContext ctx = fw.getBundleContext();
        try (Stream<Path> jars = Files.list(home.resolve("bundle").resolve("web"))) {
            for (Path jar : jars.filter(f -> f.toString().endsWith(".jar")).sorted().toList()) {
                Bundle b = install(ctx, jar, AFTER_PROMPT_START_LEVEL);
                if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                    try {
                        b.start(); // at start level 3: when the framework gets there, below
                    } catch (BundleException e) {
                        System.err.println("pagepool: " + b.getSymbolicName() + " did not start: " + e.getMessage());
                    }
                }
            }
        } catch (IOException | BundleException e) {
            System.err.println("pagepool: the live page and HTTP API are off: " + e.getMessage());
            return null;
        }
        String host = ctx.getProperty("org.apache.felix.http.host");
        String port = ctx.getProperty("org.osgi.service.http.port");
        host = host == null ? "127.0.0.1" : host;
        port = port == null ? "8080" : port;
        String clash = portInUse(host, port);
        if (clash != null) {
            System.err.println("pagepool: the live page and HTTP API are off: " + host + ":" + port + " " + clash
                    + " (set -Dorg.osgi.service.http.port=<port> or -Dorg.apache.felix.http.host=<address>)");
        }
        fw.adapt(org.osgi.framework.startlevel.FrameworkStartLevel.class).setStartLevel(AFTER_PROMPT_START_LEVEL);
        return clash != null ? null : "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port
                + "/pagepool";
    }

    /** Why the page's address cannot be served (e.g. "is in use"), or null when it can. */
    private static String portInUse(String host, String port) {
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true); // as Jetty binds: a port in TIME_WAIT is free
            probe.bind(new java.net.InetSocketAddress(host, Integer.parseInt(port)));
            return null;
        } catch (NumberFormatException e) {
            return "is not a port number";
        } catch (IOException e) {
            return "cannot be listened on (" + e.getMessage() + ")";
        }
    }

    /** The control socket, once Gogo is up; off the start-up's path. */
    private static void control(Framework fw, Path home) {
        Thread t = new Thread(() -> {
            try {
                Problems problems = new Problems(fw.getBundleContext());
                ControlServer server = ControlServer.start(home, GogoShell.await(fw.getBundleContext(),
                        READY_TIMEOUT_MS), (kind, why) -> problems.refused("control-" + kind,
                                "run/control.sock", "control socket", why));
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        server.close();
                    } catch (IOException e) {
                        // the socket file stays; the next start replaces it
                    }
                }, "pagepool-control-close"));
            } catch (Exception e) {
                Logger.getLogger("pagepool.control").log(Level.SEVERE, "control socket: not listening: " + e, e);
            }
        }, "pagepool-control-start");
        t.setDaemon(true);
        t.start();
    }

    /** SIGTERM, Ctrl-C or exit: the framework stops its bundles in order before the JVM goes. */
    private static void stop(Framework fw) {
        try {
            if ((fw.getState() & (Bundle.ACTIVE | Bundle.STARTING)) != 0) {
                fw.stop();
            }
            fw.waitForStop(20_000);
        } catch (BundleException | InterruptedException | RuntimeException e) {
            System.err.println("pagepool: the framework did not stop cleanly: " + e);
        }
    }

    /** The commands of {@code --exec}: ';'-separated, or standard input's lines for {@code -}. */
    private static Iterator<String> script(String exec) {
        if (exec.equals("-")) {
            return new BufferedReader(new InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8))
                    .lines().iterator();
        }
        return List.of(exec.split(";")).iterator();
    }

    private static boolean isShell(String jar) {
        return jar.startsWith("org.apache.felix.gogo.") || jar.startsWith("jline-");
    }

    /**
     * The console gets one line per event, the file {@code log/pagepool.log} everything with its
     * trace; pagepool's own debug records go to the file only.
     */
    private static void configureLogging(Path home, boolean batch) throws IOException {
        if (System.getProperty("config.file") != null) {
            return;
        }
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        root.setLevel(Level.INFO);
        ConsoleHandler console = new ConsoleHandler();
        // --exec: standard error carries the commands' errors and warnings, not the start-up's news.
        console.setLevel(batch ? Level.WARNING : Level.INFO);
        console.setFormatter(new ConsoleFormat());
        root.addHandler(console);
        Path dir = Files.createDirectories(home.resolve("log"));
        // One file, started afresh each run, cut back when it reaches 50 MiB.
        FileHandler file = new FileHandler(dir.resolve("pagepool.log").toString(), 50 << 20, 1, false);
        file.setLevel(Level.FINE);
        file.setFormatter(new SimpleFormatter() {
            @Override
            public String format(LogRecord r) {
                String trace = "";
                if (r.getThrown() != null) {
                    StringWriter w = new StringWriter();
                    r.getThrown().printStackTrace(new PrintWriter(w));
                    trace = System.lineSeparator() + w;
                }
                return String.format("%1$tF %1$tT.%1$tL %2$-7s %3$s [%4$s] %5$s%6$s%n", r.getMillis(),
                        r.getLevel().getName(), r.getLoggerName(), Thread.currentThread().getName(), formatMessage(r),
                        trace);
            }
        });
        root.addHandler(file);
        Logger.getLogger("pagepool").setLevel(Level.FINE);
        // FileInstall's words (a bundle of load/ that would not start, with its trace) go to the
        // file; on the console and in pp:problems the load/ check says it in one line, with why.
        FILE_INSTALL.setUseParentHandlers(false);
        FILE_INSTALL.addHandler(file);
    }


    /**
     * Runs each ';'-separated command (or each line of standard input, for {@code -}) once the
     * pagepool services are up; returns the exit status. Output goes to stdout, errors to stderr.
     * With {@code -Dpagepool.exec.marker=TEXT}, the text follows each command on both streams, for
     * programs that drive the runtime.
     */
    private static int execute(Framework fw, String commands, PrintStream stdout, PrintStream stderr)
            throws Exception {
        BundleContext ctx = fw.getBundleContext();
        GogoShell shell = GogoShell.await(ctx, READY_TIMEOUT_MS);
        for (String service : List.of("pagepool.api.binding.PoolBindings", "pagepool.api.queue.NetDevice",
                "pagepool.api.control.Control")) {
            if (GogoShell.awaitService(ctx, service, READY_TIMEOUT_MS) == null) {
                System.err.println("pagepool: no " + service + " after " + READY_TIMEOUT_MS
                        + " ms; running the commands anyway");
            }
        }
        String marker = System.getProperty("pagepool.exec.marker");
        int status = 0;
        try (GogoShell.Session session = shell.open(System.in, stdout, stderr)) {
            for (Iterator<String> script = script(commands); script.hasNext();) {
                String c = script.next().trim();
                if (c.isEmpty()) {
                    continue;
                }
                try {
                    Object result = session.execute(c);
                    if (result != null) {
                        System.out.println(result);
                    }
                } catch (GogoShell.Failure e) {
                    System.err.println("error: " + e.getMessage());
                    status = 1;
                }
                if (marker != null) {
                    System.out.println(marker);
                    System.err.println(marker);
                }
                System.out.flush();
                System.err.flush();
            }
        }
        return status;
    }
}

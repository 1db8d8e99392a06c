package pagepool.web;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.kit.config.ConfigReport;
import pagepool.api.control.Control;

/**
 * Who may use the HTTP API, decided in one place for every servlet (the {@link AccessFilter}
 * asks it). Loopback is not a boundary against a browser: a page elsewhere can send requests to
 * 127.0.0.1, and with DNS rebinding read the answers. So:
 * <ul>
 * <li>the {@code Host} header must name this server: a loopback name, the address it listens on,
 * or a name in {@code allowed.hosts} (a rebound name is refused);
 * <li>an {@code Origin}, when a browser sends one, must be such a host too (another site's
 * fetch, form or event stream is refused);
 * <li>writes carry the token generated at each start (header {@code X-Pagepool-Token}); the
 * page is served with it, and {@code run/http.token} (0600) holds it for scripts, as Jupyter
 * does; {@code writes=off} refuses them all. Reads of the API and {@code /metrics} need no
 * token, as Prometheus and curl expect;
 * <li>methods other than GET, HEAD and POST are refused (TRACE would echo the headers).
 * </ul>
 * The first refusal of each kind is logged and listed by {@code pp:problems}; every refusal is
 * counted by kind in {@code /metrics}.
 */
@Component(service = WebAccess.class, configurationPid = WebAccess.PID)
@Designate(ocd = WebAccess.Config.class)
public final class WebAccess {

    static final String PID = "pagepool.web";
    static final String TOKEN_HEADER = "X-Pagepool-Token";
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST");

    @ObjectClassDefinition(name = "pagepool HTTP API", description = "Who may read and write the HTTP API")
    public @interface Config {
        @AttributeDefinition(description = "Host names besides the loopback names and the listening address that"
                + " requests may carry in Host and Origin, e.g. a reverse proxy's name")
        String[] allowed_hosts() default {};

        @AttributeDefinition(description = "token: writes need the token the page is served with (default); off:"
                + " no writes over HTTP")
        String writes() default "token";
    }

    /** A request refused: its status and one line. */
    record Refusal(String kind, int status, String message) {
    }

    static final String INSTANCE_HEADER = "X-Pagepool-Instance";

    private final Set<String> hosts;
    /** Not a secret: tells this runtime's answers from another program's on the same address. */
    private final String instance = Long.toHexString(new SecureRandom().nextLong());
    private final boolean writes;
    private final String token;
    private final Path tokenFile;
    private final BundleContext context;
    private final Map<String, ConfigReport> firstOfKind = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> refused = new ConcurrentHashMap<>();

    /**
     * The control plane, whose JSON every refusal is written in. Every servlet and the filter of
     * this bundle need this component, so without the control plane none of them runs, and none
     * runs unguarded.
     */
    private final Control control;

    /** The JSON body of a refusal: {@code {"error": "..."}}. */
    String refusal(String message) {
        return control.json(new pagepool.api.control.Refusal(message));
    }

    @Activate
    public WebAccess(BundleContext context, Config config, @Reference Control control) throws IOException {
        this.context = context;
        this.control = control;
        Set<String> h = new TreeSet<>(Set.of("localhost", "127.0.0.1", "[::1]"));
        String listening = context.getProperty("org.apache.felix.http.host");
        if (listening != null && !listening.isBlank() && !listening.equals("0.0.0.0") && !listening.equals("::")) {
            h.add(hostName(listening.contains(":") && !listening.startsWith("[") ? "[" + listening + "]" : listening));
        }
        for (String name : config.allowed_hosts()) {
            if (!name.isBlank()) {
                h.add(hostName(name.strip()));
            }
        }
        this.hosts = java.util.Collections.unmodifiableSet(h);
        String w = config.writes().strip().toLowerCase(Locale.ROOT);
        if (!w.equals("token") && !w.equals("off")) {
            // An unknown word must not open writes: they stay off, and the operator is told.
            new ConfigReport(context).refuse(PID, "http api", "writes: '" + config.writes()
                    + "' (expected: token or off); writes stay off");
        }
        this.writes = w.equals("token");
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        this.token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        this.tokenFile = tokenFile(context);
        if (writes) {
            writeToken(tokenFile, token);
        }
    }

    @Deactivate
    void deactivate() throws IOException {
        firstOfKind.values().forEach(ConfigReport::close);
        Files.deleteIfExists(tokenFile);
    }

    /** Where scripts find the token: {@code run/} of the runtime folder, else the bundle's data area. */
    private static Path tokenFile(BundleContext context) {
        String home = context.getProperty("pagepool.home");
        if (home != null) {
            return Path.of(home, "run", "http.token");
        }
        java.io.File data = context.getDataFile("http.token");
        return data == null ? Path.of(System.getProperty("java.io.tmpdir"), "pagepool-http.token") : data.toPath();
    }

    private static void writeToken(Path file, String token) throws IOException {
        Path dir = file.getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                    "rwx------")));
        }
        Path tmp = dir.resolve(file.getFileName() + ".new");
        Files.deleteIfExists(tmp);
        // Created 0600 before a byte is written: no moment in which another user may read it.
        Files.write(Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                "rw-------"))), (token + "\n").getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    String instance() {
        return instance;
    }

    String token() {
        return writes ? token : "";
    }

    Path tokenFile() {
        return tokenFile;
    }

    /** Refusals so far, by kind (host, origin, method, token, writes). */
    Map<String, Long> refusals() {
        Map<String, Long> m = new java.util.TreeMap<>();
        refused.forEach((k, v) -> m.put(k, v.get()));
        return m;
    }

    /**
     * Null when the request may proceed, else why not.
     *
     * @param method the HTTP method
     * @param host the Host header, or null
     * @param origin the Origin header, or null
     * @param sentToken the token header, or null
     * @param write whether the request changes state
     */
    Refusal check(String method, String host, String origin, String sentToken, boolean write) {
        Refusal r = decide(method, host, origin, sentToken, write);
        if (r != null) {
            refused.computeIfAbsent(r.kind(), k -> new AtomicLong()).incrementAndGet();
            firstOfKind.computeIfAbsent(r.kind(), k -> {
                ConfigReport report = new ConfigReport(context);
                report.refuse("http", "http api (" + k + ")", r.message() + "; the first of its kind, every one is"
                        + " counted in pagepool_http_refused_total");
                return report;
            });
        }
        return r;
    }

    private Refusal decide(String method, String host, String origin, String sentToken, boolean write) {
        if (!METHODS.contains(method)) {
            return new Refusal("method", 405, "method: '" + clip(method) + "' (expected: GET, HEAD or POST)");
        }
        if (host == null || !hosts.contains(hostName(host))) {
            return new Refusal("host", 403, "host: " + (host == null ? "missing" : "'" + clip(host) + "'")
                    + " (expected: one of " + hosts + ", or a name in " + PID + ".cfg's allowed.hosts)");
        }
        if (origin != null && !origin.equals("null") && !allowedOrigin(origin)) {
            return new Refusal("origin", 403, "origin: '" + clip(origin) + "' (expected: this page's own, on one of "
                    + hosts + ")");
        }
        if (origin != null && origin.equals("null")) {
            return new Refusal("origin", 403, "origin: 'null' (expected: this page's own; a sandboxed or file page"
                    + " may not use the API)");
        }
        if (!write) {
            return null;
        }
        if (!writes) {
            return new Refusal("writes", 403, "writes are off (" + PID + ".cfg: writes=off); use ./pagepool ctl");
        }
        if (sentToken == null || sentToken.isEmpty()) {
            return new Refusal("token", 401, "token: missing (expected: the " + TOKEN_HEADER + " header, as the page"
                    + " sends it; scripts read it from run/http.token)");
        }
        if (!MessageDigest.isEqual(sentToken.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
            return new Refusal("token", 403, "token: wrong (expected: the one in run/http.token, new at each start)");
        }
        return null;
    }

    private boolean allowedOrigin(String origin) {
        try {
            URI u = URI.create(origin);
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getRawAuthority() == null) {
                return false;
            }
            return hosts.contains(hostName(u.getRawAuthority()));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** "Example.COM:8080" -> "example.com", "[::1]:80" -> "[::1]": the name a Host or Origin names. */
    static String hostName(String authority) {
        String a = authority.strip().toLowerCase(Locale.ROOT);
        if (a.startsWith("[")) {
            int end = a.indexOf(']');
            return end < 0 ? a : a.substring(0, end + 1);
        }
        int colon = a.indexOf(':');
        return colon < 0 ? a : a.substring(0, colon);
    }

    /** A value from a request, made safe to print: at most 100 characters, no control characters. */
    static String clip(String s) {
        String t = s.length() > 100 ? s.substring(0, 100) + "..." : s;
        return t.replaceAll("[\\p{Cntrl}\\p{Zl}\\p{Zp}]", "?");
    }
}

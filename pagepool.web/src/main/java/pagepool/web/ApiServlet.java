package pagepool.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import pagepool.api.Checks;
import pagepool.api.binding.QueueList;
import pagepool.api.control.Control;
import pagepool.api.queue.QueueDebug.ResetMode;

/**
 * {@code /pagepool/api/<what>}: the control plane over HTTP, in its own JSON (the shell's
 * {@code --json} is the same). {@code GET} reads a listing; {@code POST} with form fields does an
 * operation, each field given once and nothing else given. What the control plane refuses is a 400
 * (bad input) or 409 (cannot now) with {@code {"error": "..."}}; the schema is
 * {@code /pagepool/api/openapi.json}.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/pagepool/api/*")
public final class ApiServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final System.Logger LOG = System.getLogger(ApiServlet.class.getName());

    /** A write: the fields it takes, and what it does with them. */
    private record Operation(Set<String> fields, Function<Map<String, String>, Object> call) {
    }

    private final transient Control control;
    private final transient WebAccess access;
    private final transient Map<String, Function<HttpServletRequest, Object>> listings;
    private final transient Map<String, Operation> operations;

    @Activate
    public ApiServlet(@Reference Control control, @Reference WebAccess access) {
        this.control = control;
        this.access = access;
        this.listings = Map.ofEntries(Map.entry("queues", r -> control.queues()),
                Map.entry("pools", r -> control.pools()), Map.entry("providers", r -> control.providers()),
                Map.entry("bindings", r -> control.bindings()), Map.entry("devices", r -> control.devices()),
                Map.entry("problems", r -> control.problems()), Map.entry("dmabufs", r -> control.dmabufs()),
                Map.entry("devstats", r -> control.devstats(r.getParameter("device"))),
                Map.entry("restarts", r -> control.restartLatency()),
                Map.entry("history", r -> control.history(after(r))),
                Map.entry("change-log", r -> control.changes(after(r))));
        this.operations = Map.of(
                "bind", new Operation(Set.of("device", "queues", "provider"), f -> java.util.List.of(control.bind(
                        f.get("device"), QueueList.parse(f.get("queues")), f.get("provider"), "HTTP"))),
                "unbind", new Operation(Set.of("device", "queues"),
                        f -> control.unbind(f.get("device"), QueueList.parse(f.get("queues")))),
                "link", new Operation(Set.of("device", "state"),
                        f -> control.link(f.get("device"), word("state", f.get("state"), "up", "down"))),
                "page-hold", new Operation(Set.of("device", "queue", "hold"), f -> control.pageHold(f.get("device"),
                        index(f.get("queue")), word("hold", f.get("hold"), "on", "off"))),
                "queue-reset", new Operation(Set.of("device", "queue"),
                        f -> control.queueReset(f.get("device"), index(f.get("queue")), (ResetMode) null)),
                "provider-reset", new Operation(Set.of("provider"), f -> control.providerReset(f.get("provider"))));
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String what = name(req);
        if (what.equals("openapi.json")) {
            resp.setContentType("application/json");
            resp.setHeader("Cache-Control", "no-store");
            try (var in = ApiServlet.class.getResourceAsStream("openapi.json")) {
                in.transferTo(resp.getOutputStream());
            }
            return;
        }
        Function<HttpServletRequest, Object> listing = listings.get(what);
        if (listing == null) {
            refuse(resp, 404, "api: '" + what + "' (expected: one of " + new TreeSet<>(listings.keySet())
                    + " or openapi.json)");
            return;
        }
        fields(req, switch (what) {
            case "devstats" -> Set.of("device");
            case "history", "change-log" -> Set.of("after");
            default -> Set.of();
        }, Set.of());
        answer(resp, () -> listing.apply(req));
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        // Host, Origin and the write token are checked before this, by AccessFilter.
        String what = name(req);
        Operation op = operations.get(what);
        if (op == null) {
            refuse(resp, 404, "api: POST '" + what + "' (expected: one of " + new TreeSet<>(operations.keySet()) + ")");
            return;
        }
        Map<String, String> fields = fields(req, op.fields(), op.fields());
        answer(resp, () -> op.call().apply(fields));
    }

    private static String name(HttpServletRequest req) {
        String path = req.getPathInfo();
        return path == null || path.length() < 2 ? "" : path.substring(1);
    }

    /** The request's fields: each once, none but {@code allowed}, all of {@code required}; else a refusal. */
    private static Map<String, String> fields(HttpServletRequest req, Set<String> allowed, Set<String> required) {
        Map<String, String[]> given;
        try {
            given = req.getParameterMap();
        } catch (RuntimeException e) {
            // Jetty's words for a body or query it cannot read (%ZZ, an unknown charset, too large).
            throw Checks.invalid("request", "its fields could not be read (" + e.getMessage() + ")",
                    "a form, application/x-www-form-urlencoded in UTF-8, of at most 200 KB");
        }
        Map<String, String> out = new java.util.HashMap<>();
        for (Map.Entry<String, String[]> e : given.entrySet()) {
            if (!allowed.contains(e.getKey())) {
                throw Checks.invalid("field", "'" + e.getKey() + "'", allowed.isEmpty() ? "none"
                        : "only " + new TreeSet<>(allowed));
            }
            if (e.getValue().length != 1) {
                throw Checks.invalid(e.getKey(), e.getValue().length + " values", "one");
            }
            out.put(e.getKey(), e.getValue()[0].strip());
        }
        for (String k : new TreeSet<>(required)) {
            if (!out.containsKey(k) || out.get(k).isEmpty()) {
                throw Checks.invalid(k, "missing", "a value; fields: " + new TreeSet<>(required));
            }
        }
        return out;
    }

    /** {@code after}: the last sample or change a client has; 0, or absent, for all that is kept. */
    private static long after(HttpServletRequest req) {
        String v = req.getParameter("after");
        if (v == null) {
            return 0;
        }
        long n = Checks.parseLong("after", v, "an id of at least 0");
        if (n < 0) {
            throw Checks.invalid("after", "'" + v + "'", "an id of at least 0");
        }
        return n;
    }

    private static boolean word(String what, String given, String one, String other) {
        if (!given.equals(one) && !given.equals(other)) {
            throw Checks.invalid(what, "'" + given + "'", one + " or " + other);
        }
        return given.equals(one);
    }

    private static int index(String text) {
        return Checks.parseInt("queue", text, "a queue index, see /pagepool/api/queues");
    }

    private void answer(HttpServletResponse resp, java.util.function.Supplier<Object> call) throws IOException {
        String json;
        try {
            json = control.json(call.get());
        } catch (IllegalArgumentException e) {
            refuse(resp, 400, e.getMessage());
            return;
        } catch (IllegalStateException e) {
            refuse(resp, 409, e.getMessage());
            return;
        }
        resp.setContentType("application/json");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        resp.getOutputStream().write(json.getBytes(StandardCharsets.UTF_8));
    }

    private void refuse(HttpServletResponse resp, int status, String message) throws IOException {
        AccessFilter.refuse(resp, status, access.refusal(message));
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        try {
            super.service(req, resp);
        } catch (IllegalArgumentException e) {
            refuse(resp, 400, e.getMessage());
        } catch (jakarta.servlet.ServletException | RuntimeException e) {
            // Never Jetty's HTML: a fault here is said in the API's one line too, and logged.
            LOG.log(System.Logger.Level.ERROR, "api: " + req.getMethod() + " " + req.getRequestURI() + " failed", e);
            refuse(resp, 500, "api: " + req.getMethod() + " " + req.getPathInfo() + " failed: " + e
                    + " (details in the log)");
        }
    }
}

package pagepool.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /pagepool/api/<what>}: the JSON of {@code pp:<what> --json}, answered by the shell's
 * commands themselves, so the page and scripts get the fields the shell prints, and a bind from
 * the page gets the checks and the one-line refusals a bind from the shell gets.
 * {@code POST /pagepool/api/bind} and {@code /unbind} with {@code device}, {@code queues} and
 * {@code provider} parameters; a refusal is a 400 with {@code {"error": "..."}}.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/pagepool/api/*")
public final class ApiServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    /** What may be read: the shell's listings that take --json. */
    private static final Set<String> LISTINGS = Set.of("queues", "pools", "providers", "bindings", "devices",
            "devstats", "problems", "dmabufs");
    /** A device, provider or queue list as the shell takes them: no spaces, quotes or separators. */
    private static final Pattern WORD = Pattern.compile("[A-Za-z0-9_.,:/-]{1,200}");

    private final transient CommandProcessor shell;

    @Activate
    public ApiServlet(@Reference CommandProcessor shell) {
        this.shell = shell;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String what = name(req);
        if (!LISTINGS.contains(what)) {
            fail(resp, 404, "api: '" + what + "' (expected: one of " + new java.util.TreeSet<>(LISTINGS) + ")");
            return;
        }
        answer(resp, "pp:" + what + " --json");
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        // Host, Origin and the write token are checked before this, by AccessFilter.
        String what = name(req);
        Map<String, String[]> p = req.getParameterMap();
        switch (what) {
            case "bind" -> answer(resp, command("pp:bind", p, "device", "queues", "provider"));
            case "unbind" -> answer(resp, command("pp:unbind", p, "device", "queues"));
            default -> fail(resp, 404, "api: POST '" + what + "' (expected: bind or unbind)");
        }
    }

    private static String name(HttpServletRequest req) {
        String path = req.getPathInfo();
        return path == null || path.length() < 2 ? "" : path.substring(1);
    }

    /** The shell command line, each parameter checked to be one word (no command can be smuggled in). */
    private static String command(String name, Map<String, String[]> params, String... keys) {
        StringBuilder b = new StringBuilder(name);
        for (String k : keys) {
            String[] v = params.get(k);
            if (v == null || v.length != 1 || v[0].isBlank()) {
                throw new IllegalArgumentException(k + ": missing (expected: one value)");
            }
            if (!WORD.matcher(v[0].strip()).matches()) {
                throw new IllegalArgumentException(k + ": '" + v[0] + "' (expected: a name or a list like 1,2 or 0-3)");
            }
            b.append(' ').append(v[0].strip());
        }
        return b.toString();
    }

    private void answer(HttpServletResponse resp, String command) throws IOException {
        Object result;
        try (CommandSession s = shell.createSession(InputStream.nullInputStream(), new ByteArrayOutputStream(),
                new ByteArrayOutputStream())) {
            result = s.execute(command);
        } catch (Exception e) {
            fail(resp, 400, e.getMessage() == null ? e.toString() : e.getMessage());
            return;
        }
        String text = result == null ? "" : result.toString();
        boolean json = text.startsWith("[") || text.startsWith("{");
        resp.setContentType(json ? "application/json" : "text/plain");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        resp.getOutputStream().write((json ? text : Json.object(Map.of("result", text))).getBytes(
                StandardCharsets.UTF_8));
    }

    private static void fail(HttpServletResponse resp, int status, String message) throws IOException {
        AccessFilter.refuse(resp, status, message);
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        try {
            super.service(req, resp);
        } catch (IllegalArgumentException e) {
            fail(resp, 400, e.getMessage());
        } catch (jakarta.servlet.ServletException e) {
            fail(resp, 500, e.getMessage());
        }
    }
}

package pagepool.web;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import pagepool.api.binding.Change;
import pagepool.api.control.ChangeEvent;
import pagepool.api.control.Control;

/**
 * {@code /pagepool/api/changes}: the control plane's change log as server-sent events, one per
 * change, its log id as the event's {@code id} and its JSON as {@code data}, until the client goes
 * (a comment every 15 s finds out) or the bundle stops. A client that reconnects sends the last id
 * it saw ({@code Last-Event-ID}, as browsers do, or {@code ?after=}) and first gets what it missed,
 * in order, none twice.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/pagepool/api/changes")
public final class ChangesServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final long HEARTBEAT_NANOS = TimeUnit.SECONDS.toNanos(15);
    /** Streams open at once: each holds one of Jetty's threads. */
    static final int MAX_STREAMS = 32;
    /** Changes a stream may have waiting to be written; a client further behind is let go. */
    static final int BACKLOG = 1000;

    private final transient Control control;
    private final transient WebAccess access;
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean stopping;

    @Activate
    public ChangesServlet(@Reference Control control, @Reference WebAccess access) {
        this.control = control;
        this.access = access;
    }

    @Deactivate
    void deactivate() {
        stopping = true;
    }

    /** The id to resume after: Last-Event-ID, else ?after=, else 0 (everything the log keeps). */
    static long resumeAfter(String lastEventId, String after) {
        for (String v : new String[] {lastEventId, after}) {
            if (v != null) {
                try {
                    return Math.max(0, pagepool.api.Checks.parseLong("Last-Event-ID", v, "an id"));
                } catch (IllegalArgumentException e) {
                    return 0; // not one of ours (another start's, or garbage): from the start of the log
                }
            }
        }
        return 0;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (open.incrementAndGet() > MAX_STREAMS) {
            open.decrementAndGet();
            resp.setHeader("Retry-After", "5");
            AccessFilter.refuse(resp, 503, access.refusal("changes: " + MAX_STREAMS + " streams are open (expected:"
                    + " at most " + MAX_STREAMS + "; close one, or poll /pagepool/api/change-log?after=<id>)"));
            return;
        }
        try {
            stream(req, resp);
        } finally {
            open.decrementAndGet();
        }
    }

    private void stream(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setContentType("text/event-stream");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        OutputStream out = resp.getOutputStream();
        BlockingQueue<ChangeEvent> changes = new java.util.concurrent.ArrayBlockingQueue<>(BACKLOG);
        java.util.concurrent.atomic.AtomicBoolean behind = new java.util.concurrent.atomic.AtomicBoolean();
        long after = resumeAfter(req.getHeader("Last-Event-ID"), req.getParameter("after"));
        // A client that reads too slowly is let go rather than queued for without end: its browser
        // reconnects with the last id it saw, and the log gives it what it missed.
        try (Change.Subscription s = control.follow(after, e -> behind.compareAndSet(false, !changes.offer(e)))) {
            out.write(": pagepool changes\nretry: 2000\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            long wrote = System.nanoTime();
            while (!stopping && !behind.get()) {
                // A second at most between looks at stopping; a comment after 15 s of quiet.
                ChangeEvent c = changes.poll(1, TimeUnit.SECONDS);
                if (c == null && System.nanoTime() - wrote < HEARTBEAT_NANOS) {
                    continue;
                }
                String event = c == null ? ": still here\n\n"
                        : "id: " + c.id() + "\ndata: " + control.json(c.change()) + "\n\n";
                out.write(event.getBytes(StandardCharsets.UTF_8));
                out.flush(); // an IOException here: the client went
                wrote = System.nanoTime();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

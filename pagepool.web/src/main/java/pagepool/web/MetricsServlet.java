package pagepool.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import pagepool.api.QueueId;
import pagepool.api.binding.QueueInfo;
import pagepool.api.control.Control;
import pagepool.api.control.Pool;
import pagepool.api.control.QueueCounters;

/** {@code /metrics}: pools and queues in the Prometheus text format, for a scraper. */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/metrics")
public final class MetricsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    private final transient Control control;
    private final transient WebAccess access;

    @Activate
    public MetricsServlet(@Reference Control control, @Reference WebAccess access) {
        this.control = control;
        this.access = access;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Metrics m = new Metrics();
        for (Pool p : control.pools()) {
            m.pool(p);
        }
        Map<QueueId, Map<String, Long>> counters = new HashMap<>();
        for (QueueCounters c : control.devstats(null)) {
            counters.put(c.queue(), c.counters());
        }
        for (QueueInfo q : control.queues()) {
            m.queue(q, counters.getOrDefault(q.queue(), Map.of()));
        }
        access.refusals().forEach((kind, n) -> m.sample("pagepool_http_refused_total", "counter",
                "HTTP requests refused, by what was wrong (host, origin, method, token, writes)", n, "kind", kind));
        resp.setContentType("text/plain; version=0.0.4");
        resp.setCharacterEncoding("UTF-8");
        resp.getOutputStream().write(m.render().getBytes(StandardCharsets.UTF_8));
    }
}

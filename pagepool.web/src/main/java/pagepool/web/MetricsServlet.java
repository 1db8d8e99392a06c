package pagepool.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import pagepool.api.PoolInfo;
import pagepool.api.binding.PoolBindings;
import pagepool.api.binding.QueueInfo;
import pagepool.api.queue.NetDevice;

/** {@code /metrics}: pools and queues in the Prometheus text format, for a scraper. */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/metrics")
public final class MetricsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    private final transient PoolBindings bindings;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private transient volatile List<NetDevice> devices;

    private final transient WebAccess access;

    @Activate
    public MetricsServlet(@Reference PoolBindings bindings, @Reference WebAccess access) {
        this.bindings = bindings;
        this.access = access;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Metrics m = new Metrics();
        for (PoolInfo p : bindings.pools()) {
            m.pool(p);
        }
        List<NetDevice> devs = devices == null ? List.of() : devices;
        for (QueueInfo q : bindings.queues()) {
            NetDevice dev = devs.stream().filter(d -> d.name().equals(q.queue().device())).findFirst().orElse(null);
            m.queue(q, dev);
        }
        access.refusals().forEach((kind, n) -> m.sample("pagepool_http_refused_total", "counter",
                "HTTP requests refused, by what was wrong (host, origin, method, token, writes)", n, "kind", kind));
        resp.setContentType("text/plain; version=0.0.4");
        resp.setCharacterEncoding("UTF-8");
        resp.getOutputStream().write(m.render().getBytes(StandardCharsets.UTF_8));
    }
}

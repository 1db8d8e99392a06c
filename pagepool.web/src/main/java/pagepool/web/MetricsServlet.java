package pagepool.web;

import java.io.IOException;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import pagepool.api.control.Control;

/**
 * {@code /metrics}: pagepool's metric families ({@link Metrics}) and the JVM's and the process's
 * (the Prometheus client's own), in the format the scraper asks for: the Prometheus text format,
 * or OpenMetrics when its {@code Accept} header names {@code application/openmetrics-text}.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/metrics")
public final class MetricsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** This servlet's own registry: nothing global, nothing left behind when the bundle stops. */
    private final transient PrometheusRegistry registry = new PrometheusRegistry();
    private final transient ExpositionFormats formats = ExpositionFormats.init();

    @Activate
    public MetricsServlet(@Reference Control control, @Reference WebAccess access, BundleContext context) {
        registry.register(new Metrics(control, access::refusals, context.getBundle().getVersion().toString()));
        JvmMetrics.builder().register(registry);
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        ExpositionFormatWriter writer = formats.findWriter(req.getHeader("Accept"));
        resp.setContentType(writer.getContentType());
        resp.setHeader("Cache-Control", "no-store");
        writer.write(resp.getOutputStream(), registry.scrape());
    }
}

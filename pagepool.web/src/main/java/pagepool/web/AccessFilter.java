package pagepool.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardFilterPattern;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * In front of every pagepool servlet: the checks of {@link WebAccess}, and the headers that keep
 * the page out of other sites' frames. A POST is a write; everything this bundle serves otherwise
 * only reads.
 */
@Component(service = Filter.class)
@HttpWhiteboardFilterPattern("/*")
public final class AccessFilter implements Filter {

    private final WebAccess access;

    @Activate
    public AccessFilter(@Reference WebAccess access) {
        this.access = access;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        HttpServletResponse resp = (HttpServletResponse) response;
        resp.setHeader("X-Content-Type-Options", "nosniff");
        resp.setHeader("X-Frame-Options", "DENY");
        resp.setHeader("Content-Security-Policy", "frame-ancestors 'none'");
        resp.setHeader("Referrer-Policy", "no-referrer");
        resp.setHeader(WebAccess.INSTANCE_HEADER, access.instance());
        WebAccess.Refusal r = access.check(req.getMethod(), req.getHeader("Host"), req.getHeader("Origin"),
                req.getHeader(WebAccess.TOKEN_HEADER), "POST".equals(req.getMethod()));
        if (r != null) {
            if (r.status() == 405) {
                resp.setHeader("Allow", "GET, HEAD, POST");
            }
            refuse(resp, r.status(), access.refusal(r.message()));
            return;
        }
        chain.doFilter(request, response);
    }

    /** A refusal: the control plane's JSON of it, one line, never Jetty's HTML. */
    static void refuse(HttpServletResponse resp, int status, String json) throws IOException {
        resp.setStatus(status);
        resp.setContentType("application/json");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        resp.getOutputStream().write(json.getBytes(StandardCharsets.UTF_8));
    }
}

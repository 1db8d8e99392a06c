package pagepool.web;

import java.io.IOException;
import java.io.InputStream;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /pagepool}: the live page, one HTML file with its script; it polls the JSON API each
 * second ({@code /pagepool/api/*} is the more specific pattern, so it goes to {@link ApiServlet}).
 * It is served with this start's write token in a {@code meta} tag, which its forms send back;
 * another site cannot read it (no CORS, and a rebound Host is refused before this).
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/pagepool/*")
public final class PageServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final String TOKEN_PLACEHOLDER = "@@pagepool-token@@";

    private final transient WebAccess access;

    @Activate
    public PageServlet(@Reference WebAccess access) {
        this.access = access;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getPathInfo();
        if (path != null && !path.equals("/")) {
            resp.sendError(404, "not a page of pagepool: " + path + " (the page is /pagepool, the data /pagepool/api/...)");
            return;
        }
        try (InputStream page = PageServlet.class.getResourceAsStream("index.html")) {
            if (page == null) {
                resp.sendError(500, "the page is missing from the bundle");
                return;
            }
            String html = new String(page.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                    .replace(TOKEN_PLACEHOLDER, access.token());
            resp.setContentType("text/html");
            resp.setCharacterEncoding("UTF-8");
            resp.setHeader("Cache-Control", "no-store");
            resp.getOutputStream().write(html.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }
}

package pagepool.web;

import java.io.IOException;
import java.io.InputStream;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /pagepool}: the live page, one HTML file with its script; it polls the JSON API each
 * second ({@code /pagepool/api/*} is the more specific pattern, so it goes to {@link ApiServlet}).
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/pagepool/*")
public final class PageServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

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
            resp.setContentType("text/html");
            resp.setCharacterEncoding("UTF-8");
            page.transferTo(resp.getOutputStream());
        }
    }
}

package pagepool.web;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import pagepool.kit.config.ConfigReport;

/**
 * Finds out whether the address the page is advertised on is served by this runtime: Felix HTTP
 * says nothing when its port is taken, and a second instance would otherwise point its operator
 * at the first one's page. It asks its own address once Jetty has had time to start and looks for
 * this start's instance header; another program's answer, or none, is listed by pp:problems.
 */
@Component(service = {})
public final class EndpointCheck {

    private static final long DEADLINE_SECONDS = 20;

    private final ConfigReport report;
    private final Thread thread;
    private volatile boolean stopped;

    @Activate
    public EndpointCheck(BundleContext context, @Reference WebAccess access) {
        this.report = new ConfigReport(context);
        String host = context.getProperty("org.apache.felix.http.host");
        String port = context.getProperty("org.osgi.service.http.port");
        String address = address(host, port == null ? "8080" : port);
        this.thread = new Thread(() -> check(address, access.instance()), "pagepool-web-endpoint-check");
        thread.setDaemon(true);
        thread.start();
    }

    @Deactivate
    void deactivate() {
        stopped = true;
        thread.interrupt();
        report.close();
    }

    /** host:port to ask; a wildcard address is asked on the loopback. */
    private static String address(String host, String port) {
        String h = host == null || host.isBlank() || host.equals("0.0.0.0") ? "127.0.0.1"
                : host.equals("::") ? "[::1]" : host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return h + ":" + port;
    }

    private void check(String address, String instance) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
        String last = "nothing answered";
        while (!stopped && System.nanoTime() - deadline < 0) {
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create("http://" + address + "/pagepool").toURL()
                        .openConnection();
                c.setRequestMethod("HEAD");
                c.setConnectTimeout(1000);
                c.setReadTimeout(2000);
                c.getResponseCode();
                String theirs = c.getHeaderField(WebAccess.INSTANCE_HEADER);
                c.disconnect();
                if (instance.equals(theirs)) {
                    report.clear();
                    return;
                }
                if (theirs != null) {
                    // Another pagepool holds the port: ours cannot have it, no use waiting.
                    last = "another program answers there (another pagepool runtime)";
                    break;
                }
                // Our own Jetty answers too (404) until the page's servlet is registered: ask again.
                last = "another program answers there";
            } catch (IOException e) {
                last = "nothing answered within " + DEADLINE_SECONDS + " s (" + e.getMessage() + ")";
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                return;
            }
        }
        if (!stopped) {
            report.refuse("org.osgi.service.http.port", "http api", "http://" + address + "/pagepool is not served by"
                    + " this runtime: " + last + " (expected: a free address; set -Dorg.osgi.service.http.port=<port>)");
        }
    }
}

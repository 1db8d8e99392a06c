package pagepool.runtime;

import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * Refusals the launcher makes (at the control socket), listed by {@code pp:problems} like any
 * bundle's: the first of each kind is registered as a {@code pagepool.api.config.ConfigProblem}
 * service from the framework's context. The launcher is outside every bundle and cannot link to
 * that record, so it is made through the API bundle's own class loader.
 */
final class Problems {

    private static final Logger LOG = Logger.getLogger("pagepool.control");
    private static final String PROBLEM = "pagepool.api.config.ConfigProblem";

    private final BundleContext context;
    private final Set<String> said = ConcurrentHashMap.newKeySet();

    Problems(BundleContext context) {
        this.context = context;
    }

    /** Lists the first refusal of {@code kind}; the later ones are logged by their caller only. */
    void refused(String kind, String source, String subject, String message) {
        if (!said.add(kind)) {
            return;
        }
        try {
            for (Bundle b : context.getBundles()) {
                if ("pagepool.api".equals(b.getSymbolicName())) {
                    Object problem = b.loadClass(PROBLEM).getConstructor(String.class, String.class, String.class,
                            Instant.class).newInstance(source, subject, message + " (the first of its kind; the log"
                                    + " has every one)", Instant.now());
                    context.registerService(PROBLEM, problem, null);
                    return;
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(Level.WARNING, "could not list a refusal in pp:problems: " + message, e);
        }
    }
}

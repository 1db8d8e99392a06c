package pagepool.kit.config;

import java.lang.System.Logger.Level;
import java.time.Instant;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import pagepool.api.config.ConfigProblem;

/**
 * The refusal one component has standing, if any: reported once in the log (one line) and
 * registered as a {@link ConfigProblem} service until the configuration is fixed, replaced or
 * removed. Used by components that validate their configuration with {@link ConfigValues}.
 */
public final class ConfigReport implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("pagepool.config");

    private final BundleContext context;
    private ServiceRegistration<ConfigProblem> registration;
    private ConfigProblem standing;

    /** @param context the reporting bundle's context, or null outside a framework (log only) */
    public ConfigReport(BundleContext context) {
        this.context = context;
    }

    /**
     * Reports a refusal, replacing the one standing; logs it unless it is the same refusal again.
     *
     * @param source the file name or PID ({@link ConfigValues#source()})
     * @param subject what the configuration is for, e.g. {@code device sim0}
     * @param message the problems and what stays in effect instead
     */
    public synchronized void refuse(String source, String subject, String message) {
        if (standing != null && standing.source().equals(source) && standing.subject().equals(subject)
                && standing.message().equals(message)) {
            return;
        }
        clear();
        standing = new ConfigProblem(source, subject, message, Instant.now());
        LOG.log(Level.ERROR, "{0}", standing);
        if (context != null) {
            try {
                registration = context.registerService(ConfigProblem.class, standing, null);
            } catch (IllegalStateException e) {
                // The bundle is stopping: the log line is all there is.
            }
        }
    }

    /** The configuration applies now: the refusal is withdrawn. */
    public synchronized void clear() {
        standing = null;
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException e) {
                // Gone with the bundle already.
            }
            registration = null;
        }
    }

    /** The refusal standing, or null. */
    public synchronized ConfigProblem standing() {
        return standing;
    }

    @Override
    public void close() {
        clear();
    }
}

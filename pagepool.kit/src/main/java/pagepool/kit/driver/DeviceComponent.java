package pagepool.kit.driver;

import java.lang.annotation.Annotation;
import java.util.Map;
import java.util.function.Predicate;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;

import pagepool.api.PagePoolFactory;
import pagepool.api.queue.NetDevice;
import pagepool.kit.config.ConfigValues;

/**
 * The DS component a driver declares for its device factory configuration: it extends this with
 * its {@code @Component} and {@code Config} annotations, an {@code @Activate} constructor that
 * ends with {@link #activate}, and the {@link DeviceConfig.Driver} part. Modification and
 * deactivation are this class's (the driver's bnd.bnd sets {@code -dsannotations-options: inherit}
 * so they are declared for the subclass).
 *
 * @param <C> the driver's {@code Config} annotation
 * @param <S> its settings
 * @param <D> its device
 */
public abstract class DeviceComponent<C extends Annotation, S extends DeviceConfig.Settings,
        D extends NetDevice & AutoCloseable> implements DeviceConfig.Driver<C, S, D> {

    private final Class<C> type;
    private final BundleContext context;
    private final PagePoolFactory pools;
    private final DeviceConfig<C, S, D> config;

    protected DeviceComponent(Class<C> type, Map<String, Object> props, BundleContext context, PagePoolFactory pools,
            DeviceNames names) {
        this.type = type;
        this.context = context;
        this.pools = pools;
        this.config = new DeviceConfig<>(context, pools, names, props, this);
    }

    /** Applies the first configuration; the last call of the subclass's constructor. */
    protected final void activate(Map<String, Object> props) {
        config.apply(ConfigValues.typed(type, props), props);
    }

    @Modified
    protected final void modified(Map<String, Object> props) {
        config.apply(ConfigValues.typed(type, props), props);
    }

    @Deactivate
    protected final void deactivate() {
        config.close();
    }

    /**
     * The change most devices take in place: the administrative state, when nothing else differs
     * ({@code sameOtherwise}); false asks for a rebuild. A driver's {@code changeInPlace} may
     * return this.
     */
    protected final boolean adminStateInPlace(D device, boolean sameOtherwise, boolean up) {
        if (!sameOtherwise) {
            return false;
        }
        device.setAdminUp(up);
        System.getLogger(getClass().getName()).log(System.Logger.Level.INFO, "{0}: {1}", device.name(),
                up ? "up" : "down");
        return true;
    }

    /**
     * The name of another device of this bundle that {@code claims} what the settings ask for (an
     * address, an interface), or null; for a driver's {@code conflict}. This configuration's own
     * device is not asked: it is rebuilt, and lets go first. Other bundles' devices are not asked
     * at all: a call into another driver could hang this configuration, and with it every
     * configuration update of the framework (the kernel refuses their sockets' address anyway,
     * unless both sides share it on purpose).
     */
    protected final String otherDevice(S settings, Predicate<NetDevice> claims) {
        long self = context.getBundle().getBundleId();
        try {
            for (ServiceReference<NetDevice> r : context.getServiceReferences(NetDevice.class, null)) {
                Bundle owner = r.getBundle();
                if (owner == null || owner.getBundleId() != self || settings.name().equals(r.getProperty(NetDevice.NAME))) {
                    continue;
                }
                NetDevice d = context.getService(r);
                try {
                    if (d != null && claims.test(d)) {
                        return d.name();
                    }
                } finally {
                    context.ungetService(r);
                }
            }
        } catch (InvalidSyntaxException | IllegalStateException e) {
            return null; // no filter given; a context gone: the component is going too
        }
        return null;
    }

    /** Where the driver's devices get their pools (the engine's factory, for this bundle). */
    protected final PagePoolFactory pools() {
        return pools;
    }

    /** The device now, or null. */
    protected final D device() {
        return config.device();
    }
}

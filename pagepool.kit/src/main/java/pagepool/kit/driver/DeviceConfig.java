package pagepool.kit.driver;

import java.lang.System.Logger.Level;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;

import pagepool.api.Checks;
import pagepool.api.PagePoolFactory;
import pagepool.api.queue.NetDevice;
import pagepool.kit.config.ConfigReport;
import pagepool.kit.config.ConfigValues;

/**
 * One device per factory configuration, the way every driver handles it: the configuration is
 * checked before anything is built; a bad value, a name another device has, or more memory than
 * the engine's budget allows is refused with one line naming each problem (logged once, listed
 * by {@code pp:problems}), and the device, if any, keeps running with its last good settings.
 * A change the device can take in place (link or administrative state) is applied to it; any
 * other rebuilds it. The device is registered as a {@link NetDevice} only once it is built.
 *
 * @param <C> the driver's typed configuration (its {@code Config} annotation)
 * @param <S> its settings
 * @param <D> its device
 */
public final class DeviceConfig<C, S extends DeviceConfig.Settings, D extends NetDevice & AutoCloseable> {

    private static final System.Logger LOG = System.getLogger(DeviceConfig.class.getName());

    /** What the kit needs of a driver's settings. */
    public interface Settings {
        String name();

        /** The bytes of pages a device with these settings commits, reserved before it is built. */
        long committedBytes();
    }

    /** The driver's part. */
    public interface Driver<C, S, D> {
        /** Checked settings, or null with every problem in {@code values}. */
        S settings(C config, ConfigValues values);

        /** Why these settings clash with another device (e.g. an address it receives on), or null. */
        default String conflict(S settings) {
            return null;
        }

        /** Applies a change the running device takes without a rebuild; false when it needs one. */
        boolean changeInPlace(D device, S old, S settings);

        /**
         * Builds a device, with every queue stopped.
         *
         * @throws RuntimeException naming why it cannot be built
         */
        D build(S settings);

        /** Starts a built device's threads; what it throws closes the device. */
        default void open(D device) {
        }

        /**
         * Whether a new device is built before the old one goes, so a configuration that cannot be
         * built leaves the old one running; false where both cannot exist at once (one address).
         */
        default boolean buildBeforeTearDown() {
            return true;
        }
    }

    private final BundleContext context;
    private final PagePoolFactory pools;
    private final DeviceNames names;
    private final Driver<C, S, D> driver;
    private final String pid;
    private final ConfigReport report;
    private S settings;
    private D device;
    private ServiceRegistration<NetDevice> registration;

    public DeviceConfig(BundleContext context, PagePoolFactory pools, DeviceNames names, Map<String, ?> props,
            Driver<C, S, D> driver) {
        this.context = context;
        this.pools = pools;
        this.names = names;
        this.driver = driver;
        this.pid = String.valueOf(props.get(Constants.SERVICE_PID));
        this.report = new ConfigReport(context);
    }

    /** The device now, or null. */
    public synchronized D device() {
        return device;
    }

    public synchronized S settings() {
        return settings;
    }

    /** Applies a configuration: the component's activate and modified. */
    public synchronized void apply(C config, Map<String, ?> props) {
        ConfigValues v = new ConfigValues(props);
        S s = driver.settings(config, v);
        S old = settings;
        String keeps = device == null ? "; no device is created"
                : "; " + old.name() + " keeps running with its last good configuration";
        if (s == null) {
            String name = old != null ? old.name() : shownName(props.get("name"));
            report.refuse(v.source(), "device " + (name.isBlank() ? "(no name)" : name), v.message() + keeps);
            return;
        }
        String taken = nameTaken(s.name(), v.source());
        String conflict = taken != null ? taken : driver.conflict(s);
        if (conflict != null) {
            releaseIfNew(s, old);
            report.refuse(v.source(), "device " + s.name(), conflict + keeps);
            return;
        }
        try {
            pools.reserve(pid, s.committedBytes());
        } catch (IllegalArgumentException e) {
            releaseIfNew(s, old);
            report.refuse(v.source(), "device " + s.name(), e.getMessage() + keeps);
            return;
        }
        if (device != null && (s.equals(old) || driver.changeInPlace(device, old, s))) {
            settings = s;
            report.clear();
            return;
        }
        D fresh = null;
        if (driver.buildBeforeTearDown()) {
            fresh = build(s, v, old, keeps);
            if (fresh == null) {
                return;
            }
        }
        tearDown();
        if (fresh == null) {
            settings = null;
            fresh = build(s, v, null, old == null ? "; no device is created" : "; " + old.name() + " is closed");
            if (fresh == null) {
                if (old != null && !old.name().equals(s.name())) {
                    names.release(old.name(), pid);
                }
                return;
            }
        }
        if (old != null && !old.name().equals(s.name())) {
            names.release(old.name(), pid);
        }
        report.clear();
        settings = s;
        device = fresh;
        Dictionary<String, Object> p = new Hashtable<>();
        p.put(NetDevice.NAME, s.name());
        registration = context.registerService(NetDevice.class, device, p);
        if (old != null) {
            LOG.log(Level.INFO, "{0}: rebuilt with its new configuration ({1})", s.name(), v.source());
        }
    }

    /** Builds and opens a device, or refuses the configuration (the reservation back to {@code old}'s) and returns null. */
    private D build(S s, ConfigValues v, S old, String keeps) {
        D d;
        try {
            d = driver.build(s);
        } catch (RuntimeException | OutOfMemoryError e) {
            refuseBuild(s, v, old, keeps, e);
            return null;
        }
        try {
            driver.open(d);
            return d;
        } catch (RuntimeException e) {
            closeQuietly(d);
            refuseBuild(s, v, old, keeps, e);
            return null;
        }
    }

    private void refuseBuild(S s, ConfigValues v, S old, String keeps, Throwable e) {
        pools.reserve(pid, old == null ? 0 : old.committedBytes());
        releaseIfNew(s, old);
        report.refuse(v.source(), "device " + s.name(), "the device cannot be built with these settings: "
                + e.getMessage() + keeps);
    }

    /** Who holds the name, as a refusal, or null when this configuration may have it. */
    private String nameTaken(String name, String source) {
        String holder = names.claim(name, pid, source);
        if (holder == null) {
            holder = otherRegistration(name);
        }
        return holder == null ? null : Checks.message("name", "'" + name + "' is taken by the device of " + holder,
                "a name no other device has");
    }

    /** Another bundle's device of this name, or null. */
    private String otherRegistration(String name) {
        try {
            for (ServiceReference<NetDevice> r : context.getServiceReferences(NetDevice.class, "(" + NetDevice.NAME
                    + "=" + name.replaceAll("([\\\\*()])", "\\\\$1") + ")")) {
                if (r.getBundle() != null && r.getBundle().getBundleId() != context.getBundle().getBundleId()) {
                    return "bundle " + r.getBundle().getSymbolicName();
                }
            }
            return null;
        } catch (InvalidSyntaxException | IllegalStateException e) {
            return null;
        }
    }

    private void releaseIfNew(S s, S old) {
        if (old == null || !old.name().equals(s.name())) {
            names.release(s.name(), pid);
        }
    }

    /** The configuration's name as it may be shown: itself when valid, else printable and clipped. */
    private static String shownName(Object name) {
        String n = name == null ? "" : String.valueOf(name).strip();
        try {
            return n.isEmpty() ? n : Checks.deviceName("name", n);
        } catch (IllegalArgumentException e) {
            return Checks.printable(n);
        }
    }

    /** Unregisters and closes the device: the component's deactivate; the memory reservation and the name go too. */
    public synchronized void close() {
        tearDown();
        try {
            pools.reserve(pid, 0);
        } catch (RuntimeException e) {
            // The engine went first: its reservations went with it.
        }
        if (settings != null) {
            names.release(settings.name(), pid);
        }
        report.close();
    }

    private void tearDown() {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException e) {
                // Gone with the bundle already.
            }
            registration = null;
        }
        if (device != null) {
            closeQuietly(device);
            device = null;
        }
    }

    private static void closeQuietly(AutoCloseable d) {
        try {
            d.close();
        } catch (Exception e) {
            LOG.log(Level.ERROR, "closing a device: " + e.getMessage(), e);
        }
    }
}

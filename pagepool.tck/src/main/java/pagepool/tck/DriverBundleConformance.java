package pagepool.tck;

import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import pagepool.api.PoolInfo;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.PoolBindings;
import pagepool.api.binding.QueueInfo;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueDebug;
import pagepool.tck.ConformanceReport.Result;
import pagepool.tck.Promises.Promise;
import pagepool.tck.Promises.Skip;

/**
 * The driver kit inside a running OSGi framework, on a driver bundle installed there, with the
 * framework's own engine: for each promise the kit makes a device of the bundle's through Config
 * Admin (the driver's factory configuration), waits for the bundle to register it, checks it as the
 * engine drives it, and deletes the configuration. The memory it moves queues onto is a provider
 * of the kit's, registered as a private service of the caller's bundle and bound by identity (no
 * other bundle can bind to it, nor take its queues by name), which keeps a ledger of every page
 * and pool.
 *
 * <pre>{@code
 * ConformanceReport r = DriverBundleConformance.check(context, myDriverBundle, new DriverBundleConformance.Subject() {
 *     public String factoryPid() { return "com.acme.nic.device"; }
 *     public Map<String, Object> configuration() { return Map.of("name", "acme0", "rx.queues", 2); }
 * });
 * }</pre>
 *
 * The caller's bundle needs {@link PoolBindings} and {@link ConfigurationAdmin} services; the
 * bindings the kit makes are the caller's, and go with each device.
 */
public final class DriverBundleConformance {

    static final long DEADLINE_MILLIS = 120_000;
    static final long WAIT_MILLIS = DriverConformance.WAIT_MILLIS;

    /** What the kit needs to make a device of the driver, and traffic to it. */
    public interface Subject extends DeviceTraffic {
        /** The driver's factory configuration PID: one device per configuration. */
        String factoryPid();

        /** A device's configuration; its {@code name} is the device's name. */
        Map<String, Object> configuration();
    }

    private static final List<Promise<Session>> PROMISES = List.of(
            new Promise<>("device", "a configuration makes the bundle register a device of that name, with at least"
                    + " one queue and its queue ops", DriverBundleConformance::device),
            new Promise<>("starts", "the engine starts every queue of the device on its default memory",
                    s -> s.awaitRunning(null)),
            new Promise<>("restart-onto-other-memory", "every queue restarted onto other memory runs on it and posts"
                    + " pages of it; moved back, it gives every page of it back and every pool of it is destroyed",
                    DriverBundleConformance::otherMemory),
            new Promise<>("link-down-up", "set down, the device gives every page back; set up, its queues run"
                    + " again", DriverBundleConformance::linkDownUp),
            new Promise<>("page-hold", "a held page keeps its pool after the queue moved on, until it is given"
                    + " back (QueueDebug)", DriverBundleConformance::pageHold),
            new Promise<>("reset-modes", "a queue restarts in every reset mode", DriverBundleConformance::resetModes),
            new Promise<>("accounting", "every packet sent is received or dropped, counted: sent = received + dropped + missed",
                    DriverBundleConformance::accounting),
            new Promise<>("counters-monotonic", "received, dropped, restarts and errors never go down, across a"
                    + " restart", DriverBundleConformance::monotonic),
            new Promise<>("close", "the configuration deleted, the device is unregistered, every page comes back and"
                    + " every pool is destroyed", DriverBundleConformance::close));

    private DriverBundleConformance() {
    }

    public static List<String> promises() {
        return PROMISES.stream().map(Promise::name).toList();
    }

    /** Checks every promise, each on a device of its own made from the subject's configuration. */
    public static ConformanceReport check(BundleContext context, Bundle driver, Subject subject) {
        List<Result> results = new ArrayList<>();
        for (Promise<Session> p : PROMISES) {
            if (!results.isEmpty() && results.get(0).verdict() == ConformanceReport.Verdict.FAIL) {
                // No device, nothing to check: each would wait for one in vain.
                results.add(new Result(p.name(), p.text(), ConformanceReport.Verdict.SKIP, "no device (see 'device')"));
                continue;
            }
            results.add(Promises.run(p, () -> new Session(context, driver, subject), DEADLINE_MILLIS,
                    "a device or engine call hangs"));
        }
        return new ConformanceReport("driver bundle " + driver.getSymbolicName() + " " + driver.getVersion() + " (id "
                + driver.getBundleId() + "), device '" + subject.configuration().get("name") + "'", results);
    }

    /** One device of the driver's, made for one promise, and what the kit binds it to. */
    private static final class Session implements AutoCloseable {
        final BundleContext context;
        final Bundle driver;
        final Subject subject;
        final String name;
        final PoolBindings bindings;
        final ServiceReference<PoolBindings> bindingsRef;
        final ServiceReference<ConfigurationAdmin> adminRef;
        final LedgerProvider memory = new LedgerProvider();
        final Configuration config;
        /** The kit's memory as the engine takes it: a private provider service of the caller's bundle. */
        final ServiceRegistration<MemoryProvider> memoryRegistration;
        ServiceReference<NetDevice> deviceRef;
        NetDevice device;
        boolean deleted;

        Session(BundleContext context, Bundle driver, Subject subject) throws Exception {
            this.context = context;
            this.driver = driver;
            this.subject = subject;
            this.name = String.valueOf(subject.configuration().get("name"));
            this.bindingsRef = context.getServiceReference(PoolBindings.class);
            this.adminRef = context.getServiceReference(ConfigurationAdmin.class);
            if (bindingsRef == null || adminRef == null) {
                throw new IllegalStateException("the kit needs the engine's PoolBindings and a ConfigurationAdmin"
                        + " (found: " + bindingsRef + ", " + adminRef + ")");
            }
            this.bindings = context.getService(bindingsRef);
            Dictionary<String, Object> mp = new Hashtable<>();
            mp.put(MemoryProvider.NAME, LedgerProvider.NAME);
            mp.put(MemoryProvider.PRIVATE, true);
            this.memoryRegistration = context.registerService(MemoryProvider.class, memory, mp);
            ConfigurationAdmin admin = context.getService(adminRef);
            this.config = admin.createFactoryConfiguration(subject.factoryPid(), "?");
            Dictionary<String, Object> props = new Hashtable<>(subject.configuration());
            config.update(props);
        }

        /**
         * The bundle's registration of the device, found by its {@link NetDevice#NAME} property
         * (the service is not got for a look), or null.
         */
        ServiceReference<NetDevice> registered() {
            try {
                for (ServiceReference<NetDevice> ref : context.getServiceReferences(NetDevice.class,
                        "(" + NetDevice.NAME + "=" + name + ")")) {
                    if (driver.equals(ref.getBundle())) {
                        return ref;
                    }
                }
            } catch (org.osgi.framework.InvalidSyntaxException e) {
                throw new IllegalArgumentException("device name: '" + name + "' (expected: a name without filter"
                        + " syntax)", e);
            }
            return null;
        }

        /** The device, got once and given back when the session closes. */
        NetDevice device() throws Exception {
            if (device == null) {
                if (!await(() -> registered() != null)) {
                    throw new Skip("no device '" + name + "' registered by the bundle within " + WAIT_MILLIS
                            + " ms of its configuration (the 'device' promise says why)");
                }
                deviceRef = registered();
                device = deviceRef == null ? null : context.getService(deviceRef);
                if (device == null) {
                    throw new Skip("device '" + name + "' went away as the kit took it");
                }
            }
            return device;
        }

        List<QueueInfo> queues() {
            return bindings.queues().stream().filter(q -> q.queue().device().equals(name)).toList();
        }

        /** Null when every queue of the device runs OK (on {@code provider}, or any when null). */
        String awaitRunning(String provider) throws Exception {
            int count = device().rxQueueCount();
            return await(() -> {
                List<QueueInfo> qs = queues();
                return qs.size() == count && qs.stream().allMatch(q -> q.state() == QueueInfo.State.OK
                        && (provider == null || q.provider().equals(provider)));
            }) ? null : "queues of '" + name + "' not running" + (provider == null ? "" : " on " + provider) + " after "
                    + WAIT_MILLIS + " ms: " + queues();
        }

        List<Integer> allQueues() throws Exception {
            List<Integer> all = new ArrayList<>();
            for (int q = 0; q < device().rxQueueCount(); q++) {
                all.add(q);
            }
            return all;
        }

        /** Binds the queues to the kit's memory, once the engine has taken its service. */
        String bindToLedger(List<Integer> queues) throws InterruptedException {
            BindingInfo[] b = new BindingInfo[1];
            RuntimeException[] refused = new RuntimeException[1];
            await(() -> {
                try {
                    b[0] = bindings.bind(name, queues, memory, "pagepool.tck");
                    return true;
                } catch (IllegalArgumentException e) { // not in the engine yet
                    refused[0] = e;
                    return false;
                }
            });
            if (b[0] == null) {
                return "binding " + queues + " to the kit's memory: refused for " + WAIT_MILLIS + " ms: " + refused[0];
            }
            return b[0].state() == BindingInfo.State.APPLIED ? null : "binding " + queues + " to the kit's memory: "
                    + b[0].state() + " " + b[0].message();
        }

        /** Null when every queue, having run on the engine's memory, runs on the kit's. */
        String onLedger() throws Exception {
            String broken = awaitRunning(null);
            if (broken == null) {
                broken = bindToLedger(allQueues());
            }
            return broken != null ? broken : awaitRunning(LedgerProvider.NAME);
        }

        /** Null when every page of the kit's memory is back and every pool of it destroyed. */
        String awaitLedgerEmpty(String when) throws InterruptedException {
            boolean ok = await(() -> memory.pagesOut.get() == 0 && memory.destroys.get() == memory.inits.get());
            return ok ? null : when + ": " + memory.pagesOut.get() + " pages of the kit's memory out, "
                    + memory.inits.get() + " pools made, " + memory.destroys.get() + " destroyed (expected: 0 out, all"
                    + " destroyed)";
        }

        long total(String counter) throws Exception {
            long n = 0;
            for (int q = 0; q < device().rxQueueCount(); q++) {
                Long v = device().queueStats(q).get(counter);
                n += v == null ? 0 : v;
            }
            return n;
        }

        @Override
        public void close() throws Exception {
            try {
                for (BindingInfo b : bindings.bindings()) { // the kit's bindings go with its device
                    if (b.device().equals(name)) {
                        bindings.unbind(b.id());
                    }
                }
                if (!deleted) {
                    deleted = true;
                    config.delete();
                }
                await(() -> registered() == null);
            } finally {
                if (deviceRef != null) {
                    context.ungetService(deviceRef);
                }
                memoryRegistration.unregister();
                context.ungetService(bindingsRef);
                context.ungetService(adminRef);
            }
        }
    }

    /** The wait of the standalone kit, the same {@link #WAIT_MILLIS}. */
    static boolean await(BooleanSupplier condition) throws InterruptedException {
        return DriverConformance.await(condition);
    }

    // ---- the checks ----------------------------------------------------------------------------------------

    private static String device(Session s) throws Exception {
        if (!await(() -> s.registered() != null)) {
            return "no device '" + s.name + "' registered by " + s.driver.getSymbolicName() + " within " + WAIT_MILLIS
                    + " ms of a configuration of " + s.subject.factoryPid() + " (expected: a NetDevice service with "
                    + NetDevice.NAME + "=" + s.name + ")";
        }
        NetDevice d = s.device();
        if (d.rxQueueCount() < 1) {
            return "rxQueueCount() = " + d.rxQueueCount() + " (expected: at least 1)";
        }
        return d.queueOps() == null ? "queueOps() = null" : null;
    }

    private static String otherMemory(Session s) throws Exception {
        String broken = s.onLedger();
        if (broken == null && !await(() -> s.memory.pagesOut.get() > 0)) {
            broken = "every queue runs on the kit's memory but no page of it is out (expected: rings posted)";
        }
        if (broken != null) {
            return broken;
        }
        s.bindings.unbind(s.name, s.allQueues());
        broken = s.awaitRunning(null);
        return broken != null ? broken : s.awaitLedgerEmpty("moved back");
    }

    private static String linkDownUp(Session s) throws Exception {
        String broken = s.onLedger();
        if (broken != null) {
            return broken;
        }
        try {
            s.device().setAdminUp(false);
        } catch (IllegalStateException | UnsupportedOperationException e) {
            throw new Skip("the device cannot be set down: " + e.getMessage());
        }
        broken = s.awaitLedgerEmpty("link down");
        if (broken != null) {
            return broken;
        }
        s.device().setAdminUp(true);
        broken = s.awaitRunning(LedgerProvider.NAME);
        if (broken == null && !await(() -> s.memory.pagesOut.get() > 0)) {
            broken = "link up: no page of the kit's memory out (expected: rings posted again)";
        }
        return broken;
    }

    private static String pageHold(Session s) throws Exception {
        String broken = s.awaitRunning(null);
        if (broken != null) {
            return broken;
        }
        if (!(s.device() instanceof QueueDebug debug)) {
            throw new Skip("the device is no QueueDebug");
        }
        broken = s.bindToLedger(List.of(0));
        if (broken == null) {
            broken = await(() -> s.queues().stream().anyMatch(q -> q.queue().index() == 0
                    && q.provider().equals(LedgerProvider.NAME) && q.state() == QueueInfo.State.OK)) ? null
                            : "queue 0 not on the kit's memory: " + s.queues();
        }
        if (broken != null) {
            return broken;
        }
        if (!debug.holdPage(0)) {
            return "holdPage(0) of a running queue returned false";
        }
        s.bindings.unbind(s.name, List.of(0)); // the queue moves on; the held page's pool must stay
        broken = s.awaitRunning(null);
        if (broken != null) {
            return broken;
        }
        if (s.memory.pagesOut.get() < 1 || s.memory.destroys.get() == s.memory.inits.get()) {
            return "with a page held, " + s.memory.pagesOut.get() + " pages of the kit's memory out and "
                    + (s.memory.inits.get() - s.memory.destroys.get()) + " pools of it alive (expected: the held"
                    + " page and its pool)";
        }
        int back = debug.releaseHeldPages(0);
        if (back != 1) {
            return "releaseHeldPages(0) = " + back + " (expected: 1)";
        }
        return s.awaitLedgerEmpty("held page given back");
    }

    private static String resetModes(Session s) throws Exception {
        String broken = s.awaitRunning(null);
        if (broken != null) {
            return broken;
        }
        if (!(s.device() instanceof QueueDebug debug)) {
            throw new Skip("the device is no QueueDebug");
        }
        QueueDebug.ResetMode before = debug.resetMode();
        try {
            for (QueueDebug.ResetMode mode : QueueDebug.ResetMode.values()) {
                debug.resetMode(mode);
                QueueInfo q = s.bindings.restartQueue(s.name, 0);
                if (q.state() != QueueInfo.State.OK) {
                    return "reset mode " + mode + ": restart of queue 0 left it " + q.state() + ": " + q.message();
                }
            }
        } finally {
            debug.resetMode(before);
        }
        return null;
    }

    private static String accounting(Session s) throws Exception {
        String broken = s.awaitRunning(null);
        if (broken != null) {
            return broken;
        }
        String rx = s.subject.received();
        String drop = s.subject.dropped();
        Counted counted = () -> s.total(rx) + s.total(drop) + s.subject.missed(s.device());
        long before = counted.now();
        long sent = s.subject.send(s.device(), 10_000);
        if (sent < 0) {
            throw new Skip("the kit cannot send to this device");
        }
        boolean ok = await(() -> {
            try {
                return counted.now() - before == sent;
            } catch (Exception e) {
                return false;
            }
        });
        return ok ? null : "sent " + sent + ", then " + rx + " + " + drop + " + missed grew by " + (counted.now()
                - before) + " (expected: sent = received + dropped + missed)";
    }

    /** Packets the device accounted for: received, dropped and missed. */
    private interface Counted {
        long now() throws Exception;
    }

    private static String monotonic(Session s) throws Exception {
        String broken = s.awaitRunning(null);
        if (broken != null) {
            return broken;
        }
        return DriverConformance.countersNeverGoDown(s.device(), List.of(s.subject.received(), s.subject.dropped(),
                "restarts", "errors"), () -> s.subject.send(s.device(), 1000), () -> s.bindings.restartQueue(s.name, 0));
    }

    private static String close(Session s) throws Exception {
        String broken = s.onLedger();
        if (broken != null) {
            return broken;
        }
        s.config.delete();
        s.deleted = true;
        if (!await(() -> s.registered() == null)) {
            return "the configuration deleted, device '" + s.name + "' is still registered";
        }
        broken = s.awaitLedgerEmpty("the device closed");
        if (broken != null) {
            return broken;
        }
        List<PoolInfo> left = s.bindings.pools().stream().filter(p -> p.queue() != null
                && p.queue().device().equals(s.name) && p.state() != PoolInfo.State.DESTROYED).toList();
        return left.isEmpty() ? null : "the device closed, pools of it still there: " + left;
    }
}

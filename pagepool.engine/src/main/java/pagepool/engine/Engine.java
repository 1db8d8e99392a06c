package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;

import org.osgi.framework.Constants;

import pagepool.api.Checks;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.DeviceInfo;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.binding.QueueList;
import pagepool.api.binding.RestartLatency;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.queue.NetDevice;
import pagepool.engine.BindingTable.Binding;

/**
 * The engine without its OSGi face: the pools, the providers and devices present, the bindings
 * asked for, and the {@link Reconciler} that makes queues run on what they should. Every change
 * runs on the {@link EngineThread}, in order; callers wait for theirs. The parts:
 * <ul>
 * <li>{@link PoolRegistry}: every pool, and the retry that drains detached ones;</li>
 * <li>{@link ProviderRegistry} and {@link Devices}: what is present, and each queue's state;</li>
 * <li>{@link BindingTable} and {@link BindingChecks}: what operators and configuration asked for;</li>
 * <li>{@link Reconciler} and {@link QueueRestart}: which queues restart, and the restart itself;</li>
 * <li>{@link EngineThread} and {@link PluginCalls}: the engine's turn, and every call into a plugin
 * under its budget.</li>
 * </ul>
 * The OSGi components ({@link EngineComponent}, {@link PoolFactory}, {@link BindingsComponent},
 * {@link DeviceTracker}, {@link ConfiguredBinding}) and {@link StandaloneEngine} drive it.
 */
final class Engine implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Engine.class.getName());

    final PoolRegistry pools;
    final ProviderRegistry providers = new ProviderRegistry();
    final Devices devices = new Devices();
    private final BindingTable table = new BindingTable();
    private final BindingChecks checks = new BindingChecks(table, devices, providers);
    final ChangeFeed changes = new ChangeFeed();
    final MemoryBudget memory = new MemoryBudget();
    private final EngineThread thread = new EngineThread();
    private final PluginCalls calls = new PluginCalls(thread);
    private final QueueRestart restart = new QueueRestart(changes, calls, thread);
    final Reconciler reconciler = new Reconciler(providers, devices, table, restart, calls);
    /**
     * Told of each service the engine does not take (a device or provider whose name or answers do
     * not pass), by subject, and again with a null message when that service goes: the OSGi
     * component lists them in pp:problems; outside a framework they are logged only.
     */
    volatile java.util.function.BiConsumer<String, String> refusals = (subject, message) -> {
        if (message != null) {
            LOG.log(Level.ERROR, message);
        }
    };
    /** Subjects refused, by the device object or "provider <service id>": cleared when the service goes. */
    private final Map<Object, String> refusedBy = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile int faultLimit = 3;
    /**
     * Services (a device object, a provider's service id) whose registration waits for their
     * answer, and those of them that went meanwhile: taken by no late answer. Engine thread only.
     */
    private final java.util.Set<NetDevice> askedDevices = java.util.Collections.newSetFromMap(
            new java.util.IdentityHashMap<>()); // by identity: a driver's equals is its code
    private final java.util.Set<NetDevice> devicesWentMeanwhile = java.util.Collections.newSetFromMap(
            new java.util.IdentityHashMap<>());
    private final java.util.Set<Object> askedProviders = new java.util.HashSet<>();
    private final java.util.Set<Object> providersWentMeanwhile = new java.util.HashSet<>();
    private ScheduledFuture<?> healthCheck;

    /** @see PoolRegistry#PoolRegistry(long, long) */
    Engine(long retryMillis, long stallMillis) {
        this.pools = new PoolRegistry(retryMillis, stallMillis, changes);
        thread.afterOverrun(this::reconcileAll);
        configure(3, 100);
        allocBudget(5_000);
    }

    /** How long a queue's memory allocation may take before its restart gives up; see {@link QueueRestart}. */
    void allocBudget(long millis) {
        Checks.atLeast("allocBudgetMillis", millis, 1);
        calls.budgets(millis, Math.min(millis, 1_000));
        restart.onOverBudget((p, what) -> thread.post("charging " + p, () -> {
            reconciler.providerFault(p, null, what, faultLimit);
            checks.refreshStates();
        }));
    }

    /**
     * @param faultLimit faults after which a provider is quarantined
     * @param healthMillis how often drivers are asked whether their queues failed
     */
    synchronized void configure(int faultLimit, long healthMillis) {
        Checks.atLeast("faultLimit", faultLimit, 1);
        Checks.atLeast("healthMillis", healthMillis, 1);
        this.faultLimit = faultLimit;
        if (healthCheck != null) {
            healthCheck.cancel(false);
        }
        healthCheck = thread.every(healthMillis, "the health check", this::checkHealth);
    }

    RestartLatency restartLatency() {
        return restart.histogram.snapshot();
    }

    void onRestart(Consumer<RestartRecord> listener) {
        restart.onRestart(listener);
    }

    // ---- providers and devices come and go -----------------------------------------------------------

    /** @param bundle the bundle that registered the provider, or -1 */
    void addProvider(MemoryProvider provider, Map<String, Object> props, long bundle) {
        thread.event(() -> {
            Object serviceId = props.get(Constants.SERVICE_ID);
            GuardedProvider p;
            askedProviders.add(serviceId);
            try {
                p = calls.ask("name and capabilities of provider service " + serviceId,
                        () -> GuardedProvider.of(provider, props, bundle), () -> late("provider service " + serviceId
                                + " of bundle " + bundle));
            } catch (Exception e) {
                // GuardedProvider.of says what is wrong in an IllegalArgumentException; nothing else is expected.
                refuse("provider " + serviceId, "provider service " + serviceId + " of bundle " + bundle,
                        e instanceof IllegalArgumentException ? e.getMessage() : Faults.describe("name/capabilities", e));
                return;
            } finally {
                askedProviders.remove(serviceId);
            }
            if (providersWentMeanwhile.remove(serviceId)) {
                LOG.log(Level.WARNING, "provider service {0} went before it said what it is: not taken", serviceId);
                return;
            }
            String taken = providers.claimConflict(p);
            if (taken != null) {
                // Refused for good: it is not promoted when the name's owner goes.
                refuse("provider " + props.get(Constants.SERVICE_ID), "provider service " + props.get(Constants.SERVICE_ID)
                        + " of bundle " + bundle, taken);
                return;
            }
            p.reportTo(this::onProviderFault, calls.readers());
            providers.add(p);
            reconcileAll();
        });
    }

    void removeProvider(Map<String, Object> props) {
        // Move its queues away before returning: the service is gone, its memory stays until the
        // old pools drain.
        thread.event(() -> {
            Object id = props.get(Constants.SERVICE_ID);
            if (askedProviders.contains(id)) {
                providersWentMeanwhile.add(id);
            }
            refusalGone("provider " + id);
            GuardedProvider gone = providers.remove(id instanceof Number n ? n.longValue() : -1);
            if (gone != null) {
                devices.queues().forEach(qs -> qs.avoid.remove(gone));
            }
            reconcileAll();
        });
    }

    /** @param bundle the bundle that registered the device, or -1 */
    void addDevice(NetDevice dev, long bundle) {
        thread.event(() -> {
            Device d;
            askedDevices.add(dev);
            try {
                d = calls.ask("the details of a network device of bundle " + bundle, () -> new Device(dev,
                        dev.queueOps(), dev.name(), dev.rxQueueCount(), dev.headerSplit(), bundle, Device.adminUp(dev)),
                        () -> late("a network device of bundle " + bundle));
            } catch (Throwable t) {
                String why = "network device " + dev.getClass().getName() + " is not taken: "
                        + Faults.describe("queueOps/name/rxQueueCount/headerSplit", t);
                refuse(dev, "device " + dev.getClass().getName() + " of bundle " + bundle, why);
                return;
            } finally {
                askedDevices.remove(dev);
            }
            if (devicesWentMeanwhile.remove(dev)) {
                LOG.log(Level.WARNING, "network device {0} of bundle {1} went before it said what it is: not taken",
                        d.name, String.valueOf(bundle));
                return;
            }
            String why = null;
            try {
                Checks.deviceName("name", d.name);
            } catch (IllegalArgumentException e) {
                why = "network device " + Checks.printable(d.name) + " is not taken: " + e.getMessage();
            }
            if (why == null && d.ops == null) {
                why = "network device '" + d.name + "' is not taken: its queueOps() is null (expected: the"
                        + " queue-management ops that restart its queues)";
            }
            if (why == null && (d.queueCount < 1 || d.queueCount > QueueList.MAX_QUEUES)) {
                why = "network device '" + d.name + "' with " + d.queueCount + " RX queues is not taken (expected: 1.."
                        + QueueList.MAX_QUEUES + " queues)";
            }
            if (why != null) {
                refuse(dev, "device " + Checks.printable(d.name) + " of bundle " + bundle, why);
                return;
            }
            String taken = devices.add(d);
            if (taken != null && !taken.isEmpty()) {
                // Refused for good: it is not promoted when the name's holder goes.
                refuse(dev, "device " + d.name + " of bundle " + bundle, taken);
                return;
            }
            if (taken != null) {
                // A replacement bound before its predecessor is unbound: it takes over then.
                LOG.log(Level.INFO, "a second device named {0} waits for the first to go", d.name);
                return;
            }
            reconciler.takeOver(d);
            checks.refreshStates();
        });
    }

    /** A service whose details did not come within the budget: the engine goes on, and takes it when they come. */
    private static void late(String subject) {
        LOG.log(Level.WARNING, "{0} did not say what it is within the budget: the engine goes on, and takes it if"
                + " and when it does", subject);
    }

    /** A service not taken, listed until it goes ({@link #refusals}). */
    private void refuse(Object service, String subject, String message) {
        refusedBy.put(service, subject);
        try {
            refusals.accept(subject, message);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "listing a refusal failed", e);
        }
    }

    /** The service refused earlier went: its refusal no longer stands. */
    private void refusalGone(Object service) {
        String subject = refusedBy.remove(service);
        if (subject != null) {
            try {
                refusals.accept(subject, null);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "clearing a refusal failed", e);
            }
        }
    }

    void removeDevice(NetDevice dev) {
        thread.event(() -> {
            if (askedDevices.contains(dev)) {
                devicesWentMeanwhile.add(dev);
            }
            refusalGone(dev);
            Device next = devices.remove(dev);
            if (next != null) {
                reconciler.takeOver(next);
            }
            checks.refreshStates();
        });
    }

    // ---- pools for drivers ------------------------------------------------------------------------------

    /**
     * A pool for a driver; see {@link pagepool.api.PagePoolFactory#create}. A pool for a queue gets
     * the queue's provider (the one a restart is installing, else the one it runs on or should run
     * on), except that a pool which cannot take unreadable memory gets the default provider when the
     * queue's is unreadable: the header pool of a header-split queue, as in Linux. A pool of no
     * queue gets the default provider. Any thread (drivers create pools on their own).
     *
     * @param caller the bundle asking, or -1 for any (outside a framework)
     */
    PagePoolImpl createPool(PoolParams params, long caller) {
        if (params == null) {
            throw Checks.invalid("params", null, "pool parameters: PoolParams.builder()...build()");
        }
        QueueId q = params.queue();
        QueueState qs = q == null ? null : queueOfCaller(q, caller);
        GuardedProvider dflt = providers.defaultProvider();
        GuardedProvider provider = qs == null ? dflt : reconciler.providerForNewPool(qs, devices.get(q.device()));
        if (provider != null && !provider.caps.readable() && !params.allowUnreadable()) {
            provider = dflt;
        }
        if (provider == null) {
            throw new IllegalStateException("no memory provider for " + (q == null ? "the pool" : "queue " + q)
                    + " (expected: a MemoryProvider service with " + MemoryProvider.DEFAULT
                    + "=true, such as provider.heap)");
        }
        PagePoolImpl pool = pools.create(params, provider);
        if (qs != null && qs.installing != null) {
            qs.installed.add(pool);
        }
        return pool;
    }

    /** The queue's state, if the queue is one of a device the caller registered. */
    private QueueState queueOfCaller(QueueId q, long caller) {
        Device d = devices.get(q.device());
        if (d == null) {
            throw new IllegalArgumentException("queue " + q + ": device '" + q.device()
                    + "' is not registered (expected: a queue of a registered device, one of " + devices.names()
                    + ")");
        }
        d.checkQueue(q.index());
        if (caller >= 0 && d.bundleId >= 0 && caller != d.bundleId) {
            throw new IllegalArgumentException("queue " + q + " belongs to the driver that registered " + d.name
                    + " (bundle " + d.bundleId + "), not to bundle " + caller
                    + " (expected: pools for a queue are created by its driver)");
        }
        return devices.queue(d, q.index());
    }

    // ---- bindings --------------------------------------------------------------------------------------

    /**
     * Binds queues to a provider; see {@link pagepool.api.binding.PoolBindings#bind}.
     *
     * @param ownerBundle the bundle making it, or -1
     * @param strict see {@link BindingChecks#checkNew}
     */
    BindingInfo bind(String device, List<Integer> queueList, String provider, String owner, long ownerBundle,
            String origin, boolean strict) {
        return thread.call(() -> {
            checks.checkNew(device, queueList, provider, ownerBundle, strict);
            Binding b = new Binding(table.nextId(), device, queueList, provider, null, owner, ownerBundle, origin, false);
            table.put(b);
            thread.answerFromState(b::info);
            changed(b);
            return b.info();
        });
    }

    /**
     * Binds queues to the provider service the caller registered with this object; see
     * {@link pagepool.api.binding.PoolBindings#bind(String, List, MemoryProvider, String)}. The
     * binding holds that service and no other: no name is looked up, ever.
     */
    BindingInfo bind(String device, List<Integer> queueList, MemoryProvider provider, String owner, long ownerBundle,
            String origin) {
        if (provider == null) {
            throw Checks.invalid("provider", null, "a MemoryProvider the caller registered as a service");
        }
        return thread.call(() -> {
            GuardedProvider p = providers.byObject(provider, ownerBundle);
            if (p == null) {
                // Its class, not its toString: that would be the caller's code run here.
                throw Checks.invalid("provider", "a " + provider.getClass().getName() + " that is not a service of bundle "
                        + ownerBundle, "a MemoryProvider the caller registered as a service, and the engine took");
            }
            checks.checkNew(device, queueList, p);
            Binding b = new Binding(table.nextId(), device, queueList, p.name, provider, owner, ownerBundle, origin, false);
            table.put(b);
            thread.answerFromState(b::info);
            changed(b);
            return b.info();
        });
    }

    /**
     * Applies a binding configuration in one step: creates the owner's binding, or replaces it
     * keeping its id and its hold on queues, so only queues whose provider changes restart. A
     * configuration that cannot apply is listed as a failed binding with its reason.
     *
     * @return the binding as it is now
     */
    BindingInfo configure(String owner, String origin, String device, String queueSpec, String provider) {
        return configure(owner, origin, device, queueSpec, provider, null);
    }

    /** @param refusal why the configuration is refused before its values are read (an unknown key), or null */
    BindingInfo configure(String owner, String origin, String device, String queueSpec, String provider,
            String refusal) {
        return thread.call(() -> {
            List<Binding> mine = table.ofOwner(owner);
            long id = mine.isEmpty() ? table.nextId() : mine.get(0).id;
            mine.stream().skip(1).forEach(b -> table.remove(b.id));
            Binding old = table.get(id);
            Binding b;
            try {
                if (refusal != null) {
                    throw new IllegalArgumentException(refusal);
                }
                List<Integer> list = QueueList.parse(queueSpec);
                checks.checkNew(device, list, provider, -1, false);
                b = new Binding(id, device, list, provider, null, owner, -1, origin, false);
            } catch (IllegalArgumentException e) {
                LOG.log(Level.ERROR, "{0}: {1}", origin.isEmpty() ? owner : origin, e.getMessage());
                b = new Binding(id, String.valueOf(device), List.of(), String.valueOf(provider), null, owner, -1, origin,
                        true);
                b.set(BindingInfo.State.FAILED, e.getMessage());
            }
            table.put(b);
            Binding applied = b;
            thread.answerFromState(applied::info);
            if (old != null) {
                changed(old);
            }
            changed(b);
            return b.info();
        });
    }

    /**
     * Unbinds the listed queues' bindings; see {@link pagepool.api.binding.PoolBindings#unbind(String, List)}.
     *
     * @param owner who asks, or null to skip the owner check (tests, benchmarks)
     */
    List<BindingInfo> unbind(String device, List<Integer> queueList, String owner) {
        BindingChecks.indexes(queueList);
        return thread.call(() -> {
            Device dev = devices.require(device);
            List<Binding> found = new ArrayList<>();
            for (int q : queueList) {
                dev.checkQueue(q);
                Binding b = table.holder(new QueueId(device, q));
                if (b == null) {
                    throw new IllegalArgumentException("queue " + device + "/" + q + " has no binding"
                            + " (expected: a bound queue; see the bindings list)");
                }
                BindingChecks.checkOwner(b, owner, "queue " + device + "/" + q);
                if (!found.contains(b)) {
                    found.add(b);
                }
            }
            found.forEach(b -> table.remove(b.id));
            thread.answerFromState(() -> found.stream().map(Binding::info).toList());
            found.forEach(this::changed);
            return found.stream().map(Binding::info).toList();
        });
    }

    /** @param owner who asks, or null to skip the owner check (tests, benchmarks) */
    boolean unbind(long id, String owner) {
        return thread.call(() -> {
            Binding b = table.get(id);
            if (b == null) {
                return false;
            }
            BindingChecks.checkOwner(b, owner, "binding " + id);
            table.remove(id);
            thread.answerFromState(() -> true);
            changed(b);
            return true;
        });
    }

    /** Removes every binding made by {@code owner} (a bundle that stopped, a deleted configuration). */
    void unbindOwner(String owner) {
        thread.event(() -> {
            List<Binding> gone = table.ofOwner(owner);
            gone.forEach(b -> table.remove(b.id));
            gone.forEach(this::changed);
        });
    }

    /** A binding came, went or changed: its queues try their provider afresh and restart if they must. */
    private void changed(Binding b) {
        for (int q : b.queues) {
            QueueState qs = devices.queue(new QueueId(b.device, q));
            if (qs != null) {
                qs.avoid.clear();
            }
        }
        Device dev = devices.get(b.device);
        if (dev != null) {
            reconciler.device(dev);
        }
        // Waiting bindings of other devices may hold their queues now.
        for (Device d : devices.all()) {
            if (d != dev) {
                reconciler.device(d);
            }
        }
        checks.refreshStates();
    }

    // ---- operators' requests ---------------------------------------------------------------------------

    /** Restarts one queue onto the memory it should run on; see {@link pagepool.api.binding.PoolBindings#restartQueue}. */
    QueueInfo restartQueue(String device, int queue) {
        return thread.call(() -> {
            Device d = devices.require(device);
            d.checkQueue(queue);
            QueueState qs = devices.queue(d, queue);
            thread.answerFromState(() -> info(qs));
            reconciler.restartNow(d, qs);
            checks.refreshStates();
            return info(qs);
        });
    }

    /** Lifts a provider's quarantine and forgets its faults; see {@link pagepool.api.binding.PoolBindings#resetProvider}. */
    ProviderInfo resetProvider(String name) {
        return thread.call(() -> {
            List<GuardedProvider> named = providers.entries().stream().filter(p -> p.name.equals(name)).toList();
            if (named.isEmpty()) {
                throw Checks.invalid("provider", "'" + name + "' is unknown",
                        "one of " + providers.entries().stream().map(p -> p.name).distinct().sorted().toList());
            }
            for (GuardedProvider p : named) {
                p.quarantine = null;
                p.faults.clear();
                devices.queues().forEach(qs -> qs.avoid.remove(p));
            }
            LOG.log(Level.INFO, "provider ''{0}'' reset by an operator: its queues may use it again", name);
            thread.answerFromState(() -> info(providers.byName(name)));
            reconcileAll();
            return info(providers.byName(name));
        });
    }

    // ---- what drivers and providers report -------------------------------------------------------------

    /** A pool's provider threw; any thread, so the work goes to the engine thread without waiting. */
    private void onProviderFault(GuardedProvider p, PagePoolImpl pool, Faults.Call call, String what) {
        QueueId q = pool.params().queue();
        thread.post("handling a fault of " + p, () -> {
            reconciler.providerFault(p, q, what, faultLimit);
            checks.refreshStates();
        });
    }

    private void checkHealth() {
        long now = System.nanoTime();
        boolean changed = false;
        for (Device d : devices.all()) {
            changed |= reconciler.checkHealth(d, now);
        }
        if (changed) {
            checks.refreshStates();
        }
        // Said once done, so whoever waits for a device to be down finds its rings freed, and
        // whoever waits for it to be up finds its queues started and its bindings applied.
        for (Device d : devices.all()) {
            d.up = d.enabled;
        }
    }

    private void reconcileAll() {
        reconciler.all();
        checks.refreshStates();
    }

    // ---- introspection ---------------------------------------------------------------------------------

    List<BindingInfo> bindings() {
        return table.all().stream().map(Binding::info).toList();
    }

    List<DeviceInfo> devices() {
        return devices.all().stream().map(d -> new DeviceInfo(d.name, d.queueCount, d.headerSplit, d.up))
                .sorted(Comparator.comparing(DeviceInfo::name)).toList();
    }

    List<QueueInfo> queues() {
        List<QueueInfo> out = new ArrayList<>();
        for (QueueState qs : devices.queues()) {
            if (devices.contains(qs.id.device())) {
                out.add(info(qs));
            }
        }
        out.sort(Comparator.comparing((QueueInfo i) -> i.queue().device()).thenComparingInt(i -> i.queue().index()));
        return out;
    }

    private QueueInfo info(QueueState qs) {
        Binding b = table.holder(qs.id);
        QueueInfo.State state = qs.state;
        if (state == QueueInfo.State.OK && b != null && b.resolve(providers) == null) {
            state = QueueInfo.State.PENDING;
        }
        GuardedProvider cur = qs.current;
        return new QueueInfo(qs.id, cur == null ? "" : cur.name, b == null ? 0 : b.id, qs.poolId, state, qs.restarts,
                qs.message);
    }

    List<ProviderInfo> providers() {
        return providers.entries().stream().map(this::info).toList();
    }

    private ProviderInfo info(GuardedProvider p) {
        String q = p.quarantine;
        return new ProviderInfo(p.name, p.caps.readable(), p == providers.defaultProvider(), p.ranking,
                pools.poolsOf(p.provider).size(), q == null ? ProviderInfo.State.ACTIVE : ProviderInfo.State.QUARANTINED,
                p.faults.snapshot(), q == null ? "" : q);
    }

    List<PoolInfo> pools() {
        return pools.pools();
    }

    /**
     * Stops the engine thread and the detach retry. Pools still open stay usable by their drivers,
     * and detached ones still destroy themselves when their last page comes back.
     */
    @Override
    public void close() {
        thread.close();
        calls.close();
        pools.close();
        changes.close();
    }
}

package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.osgi.framework.Constants;

import pagepool.api.PagePool;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.DeviceInfo;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.binding.QueueList;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueMemory;
import pagepool.engine.BindingTable.Binding;

/**
 * The multiplexer: desired bindings of queues to providers, the providers and devices present,
 * and a reconciler that restarts exactly the queues whose memory should change, the Linux way
 * ({@code netdev_rx_queue_restart}). All changes run on one reconciler thread, in order; callers
 * wait for theirs. Plain Java, so tests drive it without a framework.
 *
 * <p>Providers and drivers are other people's code. Every call into a driver is guarded here and
 * every call into a provider in {@link GuardedProvider}: a queue whose provider faults falls back
 * to the default provider, a provider that keeps faulting is quarantined, a queue whose driver
 * reports a failure is restarted, and the reconciler itself never dies of what they throw.
 */
final class Multiplexer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Multiplexer.class.getName());
    private static final long WAIT_SECONDS = 30;
    /** A queue whose driver reports a failure is restarted at most this often. */
    private static final long RECOVERY_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final PoolEngine engine;
    private final ProviderRegistry providers = new ProviderRegistry();
    private final Map<String, Device> devices = new ConcurrentHashMap<>();
    /** Devices whose name is taken by another, in arrival order; reconciler thread only. */
    private final List<Device> waitingDevices = new ArrayList<>();
    private final Map<QueueId, QueueState> queues = new ConcurrentHashMap<>();
    private final BindingTable table = new BindingTable();
    private final ScheduledThreadPoolExecutor reconciler;
    private volatile Thread reconcilerThread;
    private volatile int faultLimit = 3;
    private ScheduledFuture<?> healthCheck;

    /**
     * A registered device: its fixed properties, read once, the bundle that registered it (-1:
     * none), and whether the engine has it up (its queues started) or down.
     */
    static final class Device {
        private final NetDevice dev;
        private final String name;
        private final int queueCount;
        private final boolean headerSplit;
        private final long bundleId;
        /** Whether its queues may run; changed first when the device goes down or up. */
        volatile boolean enabled;
        /** Whether it is up as reported: changed last, once the queues are started or stopped. */
        volatile boolean up;

        Device(NetDevice dev, String name, int queueCount, boolean headerSplit, long bundleId, boolean up) {
            this.dev = dev;
            this.name = name;
            this.queueCount = queueCount;
            this.headerSplit = headerSplit;
            this.bundleId = bundleId;
            this.enabled = up;
            this.up = up;
        }

        NetDevice dev() {
            return dev;
        }

        String name() {
            return name;
        }

        int queueCount() {
            return queueCount;
        }

        boolean headerSplit() {
            return headerSplit;
        }

        long bundleId() {
            return bundleId;
        }
    }

    /** One queue's memory as the multiplexer knows it. */
    static final class QueueState {
        final QueueId id;
        volatile GuardedProvider current;
        /** The provider pools of this queue get while a restart allocates their memory. */
        volatile GuardedProvider installing;
        /** Pools made for the queue while its new memory is allocated: closed if the allocation fails. */
        final List<PagePoolImpl> installed = new CopyOnWriteArrayList<>();
        /** Providers the queue is not put on until something changes: a restart onto them failed, or they faulted. */
        final Set<GuardedProvider> avoid = ConcurrentHashMap.newKeySet();
        /** Why the last of them is avoided. */
        volatile String avoidWhy = "";
        volatile int poolId;
        volatile QueueInfo.State state = QueueInfo.State.DOWN;
        volatile String message = "waiting for memory";
        volatile long restarts;
        /** What the driver reported, while the queue is failed. */
        volatile String driverFault;
        /** What a restart under way recovers from, said once the queue runs again; reconciler only. */
        String recovering;
        /** When the next restart to recover from a driver fault may run; reconciler only. */
        long nextRecovery;
        volatile long lastRestartNanos;
        /** The last restart's time from its start until the queue ran on the new memory. */
        volatile long lastSwapNanos;
        /** The last restart's stop-to-started time: the only part where the queue drops. */
        volatile long lastPauseNanos;

        QueueState(QueueId id) {
            this.id = id;
        }
    }

    Multiplexer(PoolEngine engine) {
        this.engine = engine;
        this.reconciler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "pagepool-reconciler");
            t.setDaemon(true);
            reconcilerThread = t;
            return t;
        });
        reconciler.setRemoveOnCancelPolicy(true);
        engine.onFault(this::onProviderFault);
        configure(3, 100);
    }

    /**
     * @param faultLimit faults after which a provider is quarantined
     * @param healthMillis how often drivers are asked whether their queues failed
     */
    synchronized void configure(int faultLimit, long healthMillis) {
        if (faultLimit < 1) {
            throw new IllegalArgumentException("faultLimit: " + faultLimit + " (expected: >= 1)");
        }
        if (healthMillis < 1) {
            throw new IllegalArgumentException("healthMillis: " + healthMillis + " (expected: >= 1)");
        }
        this.faultLimit = faultLimit;
        if (healthCheck != null) {
            healthCheck.cancel(false);
        }
        if (!reconciler.isShutdown()) {
            healthCheck = reconciler.scheduleWithFixedDelay(() -> guarded("the health check", this::checkHealth),
                    healthMillis, healthMillis, TimeUnit.MILLISECONDS);
        }
    }

    // ---- the factory side: which provider a new pool gets ------------------------------------

    /**
     * Creates a pool for a driver. A pool for a queue gets the queue's provider (the one being
     * installed during a restart, else the one it runs on or should run on), except that a pool
     * which cannot take unreadable memory gets the default provider when the queue's is
     * unreadable: that is the header pool of a header-split queue, as in Linux.
     *
     * @param caller the bundle asking, or -1 when unknown (no framework)
     */
    PagePool create(PoolParams params, long caller) {
        QueueId q = params.queue();
        GuardedProvider dflt = providers.defaultProvider();
        GuardedProvider provider = dflt;
        QueueState qs = null;
        if (q != null) {
            Device d = devices.get(q.device());
            if (d == null) {
                throw new IllegalArgumentException("queue " + q + ": device '" + q.device()
                        + "' is not registered (expected: a queue of a registered device, one of " + deviceNames()
                        + ")");
            }
            if (q.index() >= d.queueCount()) {
                throw new IllegalArgumentException("queue: " + q.index() + " (expected: 0.." + (d.queueCount() - 1)
                        + " on " + d.name() + ")");
            }
            if (caller >= 0 && d.bundleId() >= 0 && caller != d.bundleId()) {
                throw new IllegalArgumentException("queue " + q + " belongs to the driver that registered " + d.name()
                        + " (bundle " + d.bundleId() + "), not to bundle " + caller
                        + " (expected: pools for a queue are created by its driver)");
            }
            qs = queues.computeIfAbsent(q, QueueState::new);
            GuardedProvider installing = qs.installing;
            GuardedProvider current = qs.current;
            provider = installing != null ? installing : current != null ? current : targetFor(qs, desired(q, d));
        }
        if (provider != null && !provider.caps.readable() && !params.allowUnreadable()) {
            provider = dflt;
        }
        if (provider == null) {
            throw new IllegalStateException("no memory provider for " + (q == null ? "the pool" : "queue " + q)
                    + " (expected: a MemoryProvider service with " + MemoryProvider.DEFAULT
                    + "=true, such as provider.heap)");
        }
        PagePoolImpl pool = engine.create(params, provider);
        if (qs != null && qs.installing != null) {
            qs.installed.add(pool);
        }
        return pool;
    }

    /** The provider a queue's binding asks for if it can serve it, else the default; null if none. */
    private GuardedProvider desired(QueueId q, Device d) {
        Binding b = table.holder(q);
        if (b != null) {
            GuardedProvider p = providers.byName(b.provider);
            if (p != null && usable(p, b, d)) {
                return p;
            }
        }
        return providers.defaultProvider();
    }

    private static boolean usable(GuardedProvider p, Binding b, Device d) {
        return !p.quarantined() && (p.caps.readable() || d == null || d.headerSplit())
                && (!p.isPrivate || p.bundleId == b.ownerBundle);
    }

    /**
     * What the queue should run on now: what it should, unless that is avoided; then what it runs
     * on if that still serves, else the default; null if nothing can serve it.
     */
    private GuardedProvider targetFor(QueueState qs, GuardedProvider want) {
        if (want == null || !qs.avoid.contains(want)) {
            return want;
        }
        GuardedProvider cur = qs.current;
        if (cur != null && !qs.avoid.contains(cur) && providers.contains(cur) && !cur.quarantined()) {
            return cur;
        }
        GuardedProvider dflt = providers.defaultProvider();
        return dflt == null || qs.avoid.contains(dflt) ? null : dflt;
    }

    // ---- events ------------------------------------------------------------------------------

    /** @param bundle the bundle that registered the provider, or -1 */
    void addProvider(MemoryProvider provider, Map<String, Object> props, long bundle) {
        event(() -> {
            GuardedProvider p;
            try {
                p = GuardedProvider.of(provider, props, bundle);
            } catch (IllegalArgumentException e) {
                LOG.log(Level.ERROR, e.getMessage());
                return null;
            }
            providers.add(p);
            reconcileAll();
            return null;
        });
    }

    void addProvider(MemoryProvider provider, Map<String, Object> props) {
        addProvider(provider, props, -1);
    }

    void removeProvider(MemoryProvider provider, Map<String, Object> props) {
        // Move its queues away before returning: the service is gone, its memory stays until
        // the old pools drain.
        event(() -> {
            Object id = props.get(Constants.SERVICE_ID);
            GuardedProvider gone = providers.remove(id instanceof Number n ? n.longValue() : -1);
            if (gone != null) {
                queues.values().forEach(qs -> qs.avoid.remove(gone));
            }
            reconcileAll();
            return null;
        });
    }

    /** Reconciles after a service event, unless the engine is stopping (DS unbinds after deactivate). */
    private void event(Callable<?> task) {
        if (!reconciler.isShutdown()) {
            call(task);
        }
    }

    /** @param bundle the bundle that registered the device, or -1 */
    void addDevice(NetDevice dev, long bundle) {
        event(() -> {
            Device d;
            try {
                d = new Device(dev, dev.name(), dev.rxQueueCount(), dev.headerSplit(), bundle, adminUp(dev));
            } catch (Throwable t) {
                LOG.log(Level.ERROR, "network device " + dev.getClass().getName() + " is not taken: "
                        + Faults.describe("name/rxQueueCount/headerSplit", t));
                return null;
            }
            if (d.name() == null || d.name().isBlank() || d.queueCount() < 1 || d.queueCount() > QueueList.MAX_QUEUES) {
                LOG.log(Level.ERROR, "network device '" + d.name() + "' with " + d.queueCount()
                        + " RX queues is not taken (expected: a name and 1.." + QueueList.MAX_QUEUES + " queues)");
                return null;
            }
            if (devices.putIfAbsent(d.name(), d) != null) {
                // A replacement bound before its predecessor is unbound: it takes over then.
                waitingDevices.add(d);
                LOG.log(Level.INFO, "a second device named {0} waits for the first to go", d.name());
                return null;
            }
            takeOver(d);
            return null;
        });
    }

    void addDevice(NetDevice dev) {
        addDevice(dev, -1);
    }

    /** The driver's administrative state; a driver that cannot say is up. */
    private static boolean adminUp(NetDevice dev) {
        try {
            return dev.adminUp();
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "adminUp of " + dev + " failed: " + Faults.describe("adminUp", t));
            return true;
        }
    }

    /** The device is ours: its queues come up on the memory they should run on. */
    private void takeOver(Device d) {
        for (int i = 0; i < d.queueCount(); i++) {
            QueueState qs = queues.computeIfAbsent(new QueueId(d.name(), i), QueueState::new);
            if (!d.enabled) {
                set(qs, QueueInfo.State.DOWN, "the device is down");
            }
        }
        reconcile(d);
        refreshBindingStates();
    }

    void removeDevice(NetDevice dev) {
        event(() -> {
            if (waitingDevices.removeIf(w -> w.dev() == dev)) {
                return null;
            }
            Device d = devices.values().stream().filter(x -> x.dev() == dev).findFirst().orElse(null);
            if (d == null || !devices.remove(d.name(), d)) {
                return null;
            }
            queues.keySet().removeIf(q -> q.device().equals(d.name()));
            Device next = waitingDevices.stream().filter(w -> w.name().equals(d.name())).findFirst().orElse(null);
            if (next != null) {
                waitingDevices.remove(next);
                devices.put(next.name(), next);
                takeOver(next);
            }
            refreshBindingStates();
            return null;
        });
    }

    /**
     * Binds queues to a provider; see {@link pagepool.api.binding.PoolBindings#bind}.
     *
     * @param ownerBundle the bundle making it, or -1
     * @param strict true for operators (an unknown device, a held queue or a private provider is
     *        an error); false for configuration, which may name a device that is not there yet
     *        or a queue another binding holds (the binding waits for them)
     */
    BindingInfo bind(String device, List<Integer> queueList, String provider, String owner, long ownerBundle,
            String origin, boolean strict) {
        return call(() -> {
            checkBinding(device, queueList, provider, ownerBundle, strict);
            Binding b = new Binding(table.nextId(), device, queueList, provider, owner, ownerBundle, origin, false);
            table.put(b);
            changed(b);
            return b.info();
        });
    }

    BindingInfo bind(String device, List<Integer> queueList, String provider, String owner, boolean strict) {
        return bind(device, queueList, provider, owner, -1, "", strict);
    }

    /**
     * Applies a binding configuration in one step: creates the owner's binding, or replaces it
     * keeping its id and its hold on queues, so only queues whose provider changes restart. A
     * configuration that cannot apply is listed as a failed binding with its reason.
     *
     * @return the binding as it is now
     */
    BindingInfo configure(String owner, String origin, String device, String queueSpec, String provider) {
        return call(() -> {
            List<Binding> mine = table.ofOwner(owner);
            long id = mine.isEmpty() ? table.nextId() : mine.get(0).id;
            mine.stream().skip(1).forEach(b -> table.remove(b.id));
            Binding old = table.get(id);
            Binding b;
            try {
                List<Integer> list = QueueList.parse(queueSpec);
                checkBinding(device, list, provider, -1, false);
                b = new Binding(id, device, list, provider, owner, -1, origin, false);
            } catch (IllegalArgumentException e) {
                LOG.log(Level.ERROR, "{0}: {1}", origin.isEmpty() ? owner : origin, e.getMessage());
                b = new Binding(id, String.valueOf(device), List.of(), String.valueOf(provider), owner, -1, origin, true);
                b.set(BindingInfo.State.FAILED, e.getMessage());
            }
            table.put(b);
            if (old != null) {
                changed(old);
            }
            changed(b);
            return b.info();
        });
    }

    private void checkBinding(String device, List<Integer> queueList, String provider, long ownerBundle,
            boolean strict) {
        if (device == null || device.isBlank()) {
            throw new IllegalArgumentException("device: '" + device + "' (expected: a device name)");
        }
        if (provider == null || provider.isBlank()) {
            throw new IllegalArgumentException("provider: '" + provider + "' (expected: a provider name)");
        }
        if (queueList == null || queueList.isEmpty()) {
            throw new IllegalArgumentException("queues: " + queueList + " (expected: at least one queue index)");
        }
        if (queueList.stream().distinct().count() != queueList.size()) {
            throw new IllegalArgumentException("queues: " + queueList + " (expected: each queue once)");
        }
        Device dev = devices.get(device);
        if (dev == null && strict) {
            throw new IllegalArgumentException("device: '" + device + "' is unknown (expected: one of " + deviceNames()
                    + ")");
        }
        for (int q : queueList) {
            if (q < 0 || q >= (dev == null ? QueueList.MAX_QUEUES : dev.queueCount())) {
                throw new IllegalArgumentException("queue: " + q + " (expected: 0.."
                        + (dev == null ? QueueList.MAX_QUEUES - 1 + ")" : dev.queueCount() - 1 + " on " + device + ")"));
            }
            Binding other = table.holder(new QueueId(device, q));
            if (other != null && strict) {
                throw new IllegalArgumentException("queue " + device + "/" + q + " is already bound to provider '"
                        + other.provider + "' by binding " + other.id + " (" + other.who() + ")"
                        + " (expected: unbind it first)");
            }
        }
        GuardedProvider p = providers.byName(provider);
        if (p != null && dev != null && !p.caps.readable() && !dev.headerSplit()) {
            throw new IllegalArgumentException("provider '" + provider + "' is unreadable (device memory) and " + device
                    + " has header split off (expected: a device with header split on)");
        }
        if (p != null && strict && p.isPrivate && p.bundleId != ownerBundle) {
            throw new IllegalArgumentException(privateMessage(p));
        }
    }

    private static String privateMessage(GuardedProvider p) {
        return "provider '" + p.name + "' is private to the bundle that registered it (bundle " + p.bundleId
                + ") (expected: a provider any bundle may bind; bind this one through its owner, e.g. pp:dmabuf_bind)";
    }

    /** Unbinds the listed queues' bindings; see {@link pagepool.api.binding.PoolBindings#unbind(String, List)}. */
    List<BindingInfo> unbind(String device, List<Integer> queueList, String owner) {
        return call(() -> {
            Device dev = devices.get(device);
            if (dev == null) {
                throw new IllegalArgumentException("device: '" + device + "' is unknown (expected: one of "
                        + deviceNames() + ")");
            }
            List<Binding> found = new ArrayList<>();
            for (int q : queueList) {
                if (q < 0 || q >= dev.queueCount()) {
                    throw new IllegalArgumentException("queue: " + q + " (expected: 0.." + (dev.queueCount() - 1)
                            + " on " + device + ")");
                }
                Binding b = table.holder(new QueueId(device, q));
                if (b == null) {
                    throw new IllegalArgumentException("queue " + device + "/" + q + " has no binding"
                            + " (expected: a bound queue; see the bindings list)");
                }
                checkOwner(b, owner, "queue " + device + "/" + q);
                if (!found.contains(b)) {
                    found.add(b);
                }
            }
            found.forEach(b -> table.remove(b.id));
            found.forEach(this::changed);
            return found.stream().map(Binding::info).toList();
        });
    }

    List<BindingInfo> unbind(String device, List<Integer> queueList) {
        return unbind(device, queueList, null);
    }

    /** @param owner who asks, or null to skip the owner check (tests, benchmarks) */
    boolean unbind(long id, String owner) {
        return call(() -> {
            Binding b = table.get(id);
            if (b == null) {
                return false;
            }
            checkOwner(b, owner, "binding " + id);
            table.remove(id);
            changed(b);
            return true;
        });
    }

    boolean unbind(long id) {
        return unbind(id, null);
    }

    private static void checkOwner(Binding b, String owner, String what) {
        if (owner != null && !owner.equals(b.owner)) {
            String undo = !b.owner.startsWith("config:") ? ""
                    : b.origin.startsWith("file ") ? "; delete its file to unbind" : "; delete its configuration to unbind";
            throw new IllegalArgumentException(what + " is bound by " + b.who() + " (expected: only its owner changes"
                    + " it" + undo + ")");
        }
    }

    /** Removes every binding made by {@code owner} (a bundle that stopped, a deleted configuration). */
    void unbindOwner(String owner) {
        event(() -> {
            List<Binding> gone = table.ofOwner(owner);
            gone.forEach(b -> table.remove(b.id));
            gone.forEach(this::changed);
            return null;
        });
    }

    /** A binding came, went or changed: its queues try their provider afresh and restart if they must. */
    private void changed(Binding b) {
        for (int q : b.queues) {
            QueueState qs = queues.get(new QueueId(b.device, q));
            if (qs != null) {
                qs.avoid.clear();
            }
        }
        Device dev = devices.get(b.device);
        if (dev != null) {
            reconcile(dev);
        }
        // Waiting bindings of other devices may hold their queues now.
        for (Device d : devices.values()) {
            if (d != dev) {
                reconcile(d);
            }
        }
        refreshBindingStates();
    }

    /** Lifts a provider's quarantine and forgets its faults; see {@link pagepool.api.binding.PoolBindings#resetProvider}. */
    ProviderInfo resetProvider(String name) {
        return call(() -> {
            List<GuardedProvider> named = providers.entries().stream().filter(p -> p.name.equals(name)).toList();
            if (named.isEmpty()) {
                throw new IllegalArgumentException("provider: '" + name + "' is unknown (expected: one of "
                        + providers.entries().stream().map(p -> p.name).distinct().sorted().toList() + ")");
            }
            for (GuardedProvider p : named) {
                p.quarantine = null;
                p.faults.clear();
                queues.values().forEach(qs -> qs.avoid.remove(p));
            }
            LOG.log(Level.INFO, "provider ''{0}'' reset by an operator: its queues may use it again", name);
            reconcileAll();
            return info(providers.byName(name));
        });
    }

    // ---- faults ------------------------------------------------------------------------------

    /** A pool's provider threw; any thread, so the work goes to the reconciler without waiting. */
    private void onProviderFault(GuardedProvider p, PagePoolImpl pool, Faults.Call call, String what) {
        QueueId q = pool.params().queue();
        try {
            reconciler.execute(() -> guarded("handling a fault of " + p, () -> handleFault(p, q, what)));
        } catch (RejectedExecutionException e) {
            // The engine is stopping.
        }
    }

    /**
     * Quarantines a provider that reached the fault limit, and moves the queue whose pool faulted
     * off it: to what it ran on before if that still serves, else to the default provider.
     */
    private void handleFault(GuardedProvider p, QueueId q, String what) {
        if (!providers.contains(p)) {
            return; // gone already, and its queues with it
        }
        long total = p.faults.total();
        boolean quarantined = false;
        if (!p.quarantined() && total >= faultLimit) {
            p.quarantine = "quarantined after " + total + " faults (last: " + what + "); not used until it registers"
                    + " again or an operator resets it (pp:provider_reset " + p.name + ")";
            LOG.log(Level.WARNING, "provider ''{0}'' {1}", p.name, p.quarantine);
            quarantined = true;
        }
        QueueState qs = q == null ? null : queues.get(q);
        if (qs != null && qs.current == p && !qs.avoid.contains(p)) {
            qs.avoid.add(p);
            qs.avoidWhy = "provider '" + p.name + "' faulted: " + what;
        }
        if (quarantined) {
            reconcileAll();
        } else if (qs != null) {
            Device d = devices.get(q.device());
            if (d != null) {
                reconcileQueue(d, qs);
            }
            refreshBindingStates();
        }
    }

    /**
     * Applies each device's administrative state, and asks each driver whether its queues failed
     * and restarts the ones that did.
     */
    private void checkHealth() {
        long now = System.nanoTime();
        for (Device d : devices.values()) {
            boolean up = adminUp(d.dev());
            if (up != d.enabled) {
                if (up) {
                    linkUp(d);
                } else {
                    linkDown(d);
                }
            }
            if (!d.enabled) {
                continue;
            }
            for (int i = 0; i < d.queueCount(); i++) {
                QueueState qs = queues.get(new QueueId(d.name(), i));
                if (qs == null) {
                    continue;
                }
                String fault;
                try {
                    fault = d.dev().queueFault(i);
                } catch (Throwable t) {
                    fault = Faults.describe("queueFault", t);
                }
                if (fault == null) {
                    if (qs.driverFault != null) {
                        qs.driverFault = null;
                        reconcileQueue(d, qs);
                    }
                    continue;
                }
                if (!fault.equals(qs.driverFault)) {
                    LOG.log(Level.WARNING, "queue {0} failed in its driver: {1}; restarting it", qs.id, fault);
                }
                qs.driverFault = fault;
                set(qs, QueueInfo.State.FAILED, "its driver reports: " + fault + "; restarting it");
                if (now - qs.nextRecovery >= 0) {
                    qs.nextRecovery = now + RECOVERY_INTERVAL_NANOS;
                    GuardedProvider want = desired(qs.id, d);
                    GuardedProvider target = targetFor(qs, want);
                    if (target != null) {
                        qs.recovering = "restarted after its driver reported: " + fault;
                        restart(d, qs, target, want);
                        qs.recovering = null;
                    }
                }
            }
        }
    }

    /**
     * {@code ip link set down}: every queue stops and its memory is freed; its pools are destroyed,
     * or detach while consumers hold pages. Nothing starts until the device is up again.
     */
    private void linkDown(Device d) {
        d.enabled = false;
        LOG.log(Level.INFO, "{0} is down: its queues stop and their memory is freed", d.name());
        for (int i = 0; i < d.queueCount(); i++) {
            QueueState qs = queues.get(new QueueId(d.name(), i));
            if (qs == null) {
                continue;
            }
            try {
                QueueMemory m = d.dev().stop(i);
                if (m != null) {
                    memFree(d, m);
                }
            } catch (Throwable t) {
                LOG.log(Level.ERROR, "{0}: stopping it for link down failed: {1}", qs.id, message(t));
            }
            GuardedProvider old = qs.current;
            lost(qs);
            qs.driverFault = null;
            set(qs, QueueInfo.State.DOWN, "the device is down");
            if (old != null) {
                old.uninstall(qs.id);
            }
        }
        refreshBindingStates();
        d.up = false; // said once done, so whoever waits for it finds the rings freed
    }

    /** {@code ip link set up}: every queue starts on new memory, with what was asked meanwhile. */
    private void linkUp(Device d) {
        d.enabled = true;
        LOG.log(Level.INFO, "{0} is up: its queues start", d.name());
        for (int i = 0; i < d.queueCount(); i++) {
            QueueState qs = queues.get(new QueueId(d.name(), i));
            if (qs != null) {
                qs.avoid.clear();
            }
        }
        reconcile(d);
        refreshBindingStates();
        d.up = true; // said once done, so whoever waits for it finds the queues started and the bindings applied
    }

    /** Restarts one queue onto the memory it should run on; see {@link pagepool.api.binding.PoolBindings#restartQueue}. */
    QueueInfo restartQueue(String device, int queue) {
        return call(() -> {
            Device d = devices.get(device);
            if (d == null) {
                throw new IllegalArgumentException("device: '" + device + "' is unknown (expected: one of "
                        + deviceNames() + ")");
            }
            if (queue < 0 || queue >= d.queueCount()) {
                throw new IllegalArgumentException("queue: " + queue + " (expected: 0.." + (d.queueCount() - 1) + " on "
                        + device + ")");
            }
            QueueState qs = queues.computeIfAbsent(new QueueId(device, queue), QueueState::new);
            if (d.enabled) {
                qs.avoid.clear();
                GuardedProvider want = desired(qs.id, d);
                GuardedProvider target = targetFor(qs, want);
                if (target != null) {
                    restart(d, qs, target, want);
                }
            }
            return queues().stream().filter(q -> q.queue().equals(qs.id)).findFirst().orElseThrow();
        });
    }

    // ---- the reconciler ----------------------------------------------------------------------

    private void reconcileAll() {
        for (Device dev : devices.values()) {
            reconcile(dev);
        }
        refreshBindingStates();
    }

    /** Restarts each queue of the device whose memory is not what it should be; nothing while it is down. */
    private void reconcile(Device dev) {
        if (!dev.enabled) {
            return;
        }
        for (int i = 0; i < dev.queueCount(); i++) {
            reconcileQueue(dev, queues.computeIfAbsent(new QueueId(dev.name(), i), QueueState::new));
        }
    }

    private void reconcileQueue(Device dev, QueueState qs) {
        GuardedProvider want = desired(qs.id, dev);
        GuardedProvider target = targetFor(qs, want);
        GuardedProvider cur = qs.current;
        if (target == null) {
            if (cur == null) {
                set(qs, QueueInfo.State.DOWN, "no memory provider can serve it; it starts when one can");
            } else if (!providers.contains(cur) || cur.quarantined()) {
                set(qs, QueueInfo.State.UNHEALTHY, "its provider '" + cur.name + "' is gone and no other can serve it:"
                        + " it runs on the old memory until one can");
            }
            return;
        }
        if (target != cur) {
            restart(dev, qs, target, want);
        } else if (qs.driverFault == null) {
            settle(qs, want);
        }
    }

    /** The queue runs: as it should (OK), or on a fallback (UNHEALTHY, saying why). */
    private void settle(QueueState qs, GuardedProvider want) {
        if (qs.current == want) {
            qs.avoid.clear();
            set(qs, QueueInfo.State.OK, qs.recovering != null ? qs.recovering : "");
        } else {
            set(qs, QueueInfo.State.UNHEALTHY, qs.avoidWhy + "; it runs on '" + qs.current.name + "' instead");
        }
    }

    /**
     * {@code netdev_rx_queue_restart}: allocate the new memory first, stop, start on the new
     * memory, free the old; if the start fails, start again on the old memory. A queue that ran
     * on nothing (just registered, or stopped by a failure) starts the same way.
     *
     * @return whether the queue runs on {@code target} now
     */
    private boolean restart(Device dev, QueueState qs, GuardedProvider target, GuardedProvider want) {
        int q = qs.id.index();
        GuardedProvider old = qs.current;
        long faultsBefore = target.faults.total();
        long t0 = System.nanoTime();
        QueueMemory fresh;
        qs.installed.clear();
        qs.installing = target;
        try {
            fresh = dev.dev().memAlloc(q);
            if (fresh == null) {
                throw new IllegalStateException("memAlloc returned no memory");
            }
        } catch (Throwable e) {
            closeLeftovers(qs);
            failedOnto(qs, target, old == null ? QueueInfo.State.DOWN : QueueInfo.State.UNHEALTHY,
                    "allocating memory on provider '" + target.name + "' failed: " + withFault(message(e), target,
                            faultsBefore));
            return false;
        } finally {
            qs.installing = null;
        }
        qs.installed.clear();
        QueueMemory previous;
        long stopAt = System.nanoTime();
        try {
            previous = dev.dev().stop(q);
        } catch (Throwable e) {
            memFree(dev, fresh);
            failedOnto(qs, target, QueueInfo.State.UNHEALTHY, "stopping the queue failed: " + message(e));
            return false;
        }
        try {
            dev.dev().start(q, fresh);
        } catch (Throwable e) {
            String why = "starting on provider '" + target.name + "' failed: " + message(e);
            memFree(dev, fresh);
            if (previous == null) {
                lost(qs);
                failedOnto(qs, target, QueueInfo.State.DOWN, why + "; it had no memory to fall back to");
                return false;
            }
            try {
                dev.dev().start(q, previous);
                failedOnto(qs, target, QueueInfo.State.UNHEALTHY, why + "; restarted on its previous memory");
            } catch (Throwable again) {
                memFree(dev, previous);
                lost(qs);
                failedOnto(qs, target, QueueInfo.State.DOWN, why + "; restarting on its previous memory failed too: "
                        + message(again));
            }
            return false;
        }
        long started = System.nanoTime();
        qs.lastPauseNanos = started - stopAt;
        qs.lastSwapNanos = started - t0;
        if (previous != null) {
            memFree(dev, previous);
        }
        qs.current = target;
        qs.poolId = poolId(fresh);
        if (previous != null) {
            qs.restarts++; // a first start is no restart
        }
        qs.driverFault = null;
        qs.lastRestartNanos = System.nanoTime() - t0;
        settle(qs, want);
        if (old != null && old != target) {
            old.uninstall(qs.id);
        }
        return true;
    }

    /** The queue has no memory any more: it is stopped. */
    private static void lost(QueueState qs) {
        qs.current = null;
        qs.poolId = 0;
    }

    /** Pools the driver made for memory it then failed to allocate, and left open. */
    private static void closeLeftovers(QueueState qs) {
        for (PagePoolImpl p : qs.installed) {
            if (p.isActive()) {
                LOG.log(Level.WARNING, "queue {0}: closing pool {1}, left open by a failed memory allocation", qs.id,
                        String.valueOf(p.id()));
                try {
                    p.close();
                } catch (Throwable t) {
                    LOG.log(Level.ERROR, "closing pool " + p.id() + " failed", t);
                }
            }
        }
        qs.installed.clear();
    }

    private static void memFree(Device dev, QueueMemory memory) {
        try {
            dev.dev().memFree(memory);
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "{0}: memFree failed: {1}", dev.name(), message(t));
        }
    }

    private static int poolId(QueueMemory memory) {
        try {
            return memory.pool().id();
        } catch (Throwable t) {
            return 0;
        }
    }

    /** The driver's words, and the provider's fault behind them if it faulted meanwhile and they do not say it. */
    private static String withFault(String message, GuardedProvider p, long faultsBefore) {
        String last = p.faults.last();
        return p.faults.total() > faultsBefore && !message.contains(last) ? message + " (provider fault: " + last + ")"
                : message;
    }

    private static String message(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    /**
     * A restart onto {@code target} failed: avoid it, and say why and what the queue runs on, in
     * the same words {@link #settle} uses, so the message does not depend on which runs last.
     */
    private static void failedOnto(QueueState qs, GuardedProvider target, QueueInfo.State state, String why) {
        qs.avoid.add(target);
        qs.avoidWhy = why;
        GuardedProvider cur = qs.current;
        set(qs, state, cur == null ? why : why + "; it runs on '" + cur.name + "' instead");
        LOG.log(Level.WARNING, "queue {0}: {1}", qs.id, qs.message);
    }

    /** The message first: a reader that sees the new state sees its message. */
    private static void set(QueueState qs, QueueInfo.State state, String message) {
        qs.message = message;
        qs.state = state;
    }

    /** Derives each binding's state from its queues and the providers present. */
    private void refreshBindingStates() {
        for (Binding b : table.all()) {
            if (b.rejected) {
                continue;
            }
            if (!b.holding) {
                Binding h = table.blocker(b);
                b.set(BindingInfo.State.FAILED, h == null ? "waiting for its queues"
                        : "queue " + b.device + "/" + h.queues.stream().filter(b.queues::contains).findFirst().orElse(-1)
                        + " is held by binding " + h.id + " (" + h.who() + "); this one applies when it goes");
                continue;
            }
            Device dev = devices.get(b.device);
            if (dev == null) {
                b.set(BindingInfo.State.PENDING, "device '" + b.device + "' is not present");
                continue;
            }
            if (!dev.enabled) {
                b.set(BindingInfo.State.PENDING, "device '" + b.device + "' is down; it applies when it comes up");
                continue;
            }
            GuardedProvider p = providers.byName(b.provider);
            String bad = b.queues.stream().filter(q -> q >= dev.queueCount()).map(q -> "queue " + q
                    + " is out of range (expected: 0.." + (dev.queueCount() - 1) + ")").findFirst().orElse(null);
            if (bad != null) {
                b.set(BindingInfo.State.FAILED, bad);
            } else if (p == null) {
                b.set(BindingInfo.State.PENDING, "provider '" + b.provider + "' is not present");
            } else if (p.quarantined()) {
                b.set(BindingInfo.State.FAILED, "provider '" + b.provider + "' is " + p.quarantine);
            } else if (p.isPrivate && p.bundleId != b.ownerBundle) {
                b.set(BindingInfo.State.FAILED, privateMessage(p));
            } else if (!p.caps.readable() && !dev.headerSplit()) {
                b.set(BindingInfo.State.FAILED, "provider '" + b.provider + "' is unreadable and " + b.device
                        + " has header split off");
            } else {
                String failure = b.queues.stream().map(q -> queues.get(new QueueId(b.device, q)))
                        .filter(qs -> qs != null && qs.current != p).map(qs -> qs.id + ": " + qs.message)
                        .findFirst().orElse(null);
                b.set(failure == null ? BindingInfo.State.APPLIED : BindingInfo.State.FAILED,
                        failure == null ? "" : failure);
            }
        }
    }

    // ---- introspection -----------------------------------------------------------------------

    List<BindingInfo> bindings() {
        return table.all().stream().map(Binding::info).toList();
    }

    List<DeviceInfo> devices() {
        return devices.values().stream().map(d -> new DeviceInfo(d.name(), d.queueCount(), d.headerSplit(), d.up))
                .sorted(Comparator.comparing(DeviceInfo::name)).toList();
    }

    private List<String> deviceNames() {
        return devices.keySet().stream().sorted().toList();
    }

    List<QueueInfo> queues() {
        List<QueueInfo> out = new ArrayList<>();
        for (QueueState qs : queues.values()) {
            if (!devices.containsKey(qs.id.device())) {
                continue;
            }
            Binding b = table.holder(qs.id);
            QueueInfo.State state = qs.state;
            if (state == QueueInfo.State.OK && b != null && providers.byName(b.provider) == null) {
                state = QueueInfo.State.PENDING;
            }
            GuardedProvider cur = qs.current;
            out.add(new QueueInfo(qs.id, cur == null ? "" : cur.name, b == null ? 0 : b.id, qs.poolId, state,
                    qs.restarts, qs.message));
        }
        out.sort(Comparator.comparing((QueueInfo i) -> i.queue().device()).thenComparingInt(i -> i.queue().index()));
        return out;
    }

    List<ProviderInfo> providers() {
        return providers.entries().stream().map(this::info).toList();
    }

    private ProviderInfo info(GuardedProvider p) {
        String q = p.quarantine;
        return new ProviderInfo(p.name, p.caps.readable(), p == providers.defaultProvider(), p.ranking,
                engine.poolsOf(p.provider).size(), q == null ? ProviderInfo.State.ACTIVE : ProviderInfo.State.QUARANTINED,
                p.faults.snapshot(), q == null ? "" : q);
    }

    List<PoolInfo> pools() {
        return engine.pools();
    }

    /** Nanoseconds the last restart of a queue took, or 0. */
    long lastRestartNanos(QueueId q) {
        QueueState qs = queues.get(q);
        return qs == null ? 0 : qs.lastRestartNanos;
    }

    /** Nanoseconds from the start of the last restart until the queue ran on its new memory, or 0. */
    long lastSwapNanos(QueueId q) {
        QueueState qs = queues.get(q);
        return qs == null ? 0 : qs.lastSwapNanos;
    }

    /** Nanoseconds the queue was stopped in its last restart, or 0. */
    long lastPauseNanos(QueueId q) {
        QueueState qs = queues.get(q);
        return qs == null ? 0 : qs.lastPauseNanos;
    }

    // ---- running on the reconciler thread ----------------------------------------------------

    /** Runs work the reconciler does on its own, so nothing it meets ends its later work. */
    private static void guarded(String what, Runnable work) {
        try {
            work.run();
        } catch (Throwable t) {
            LOG.log(Level.ERROR, what + " failed", t);
        }
    }

    private <T> T call(Callable<T> task) {
        if (reconciler.isShutdown()) {
            throw new IllegalStateException("the pagepool engine is stopped");
        }
        if (Thread.currentThread() == reconcilerThread) {
            try {
                return task.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        Future<T> f;
        try {
            f = reconciler.submit(task);
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("the pagepool engine is stopped");
        }
        try {
            return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the reconciler did not finish within " + WAIT_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the reconciler", e);
        }
    }

    @Override
    public void close() {
        reconciler.shutdownNow();
    }
}

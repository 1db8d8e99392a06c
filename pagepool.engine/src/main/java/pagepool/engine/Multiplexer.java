package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import pagepool.api.PagePool;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.DeviceInfo;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueMemory;

/**
 * The multiplexer: desired bindings of queues to providers, the providers and devices present,
 * and a reconciler that restarts exactly the queues whose memory should change, the Linux way
 * ({@code netdev_rx_queue_restart}). All changes run on one reconciler thread, in order; callers
 * wait for theirs. Plain Java, so tests drive it without a framework.
 */
final class Multiplexer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Multiplexer.class.getName());
    private static final long WAIT_SECONDS = 30;

    private final PoolEngine engine;
    private final ProviderRegistry providers = new ProviderRegistry();
    private final Map<String, NetDevice> devices = new ConcurrentHashMap<>();
    /** Devices whose name is taken by another, in arrival order; reconciler thread only. */
    private final List<NetDevice> waitingDevices = new ArrayList<>();
    private final Map<QueueId, QueueState> queues = new ConcurrentHashMap<>();
    private final Map<Long, Binding> bindings = new ConcurrentHashMap<>();
    private final AtomicLong bindingIds = new AtomicLong();
    private final ExecutorService reconciler;
    private volatile Thread reconcilerThread;

    /** One queue's memory as the multiplexer knows it. */
    static final class QueueState {
        final QueueId id;
        volatile MemoryProvider current;
        /** The provider pools of this queue get while a restart allocates their memory. */
        volatile MemoryProvider installing;
        /** A provider a restart onto failed; not retried until something changes. */
        volatile MemoryProvider failedTarget;
        volatile int poolId;
        volatile QueueInfo.State state = QueueInfo.State.OK;
        volatile String message = "";
        volatile long restarts;
        volatile long lastRestartNanos;
        /** The last restart's time from its start until the queue ran on the new memory. */
        volatile long lastSwapNanos;
        /** The last restart's stop-to-started time: the only part where the queue drops. */
        volatile long lastPauseNanos;

        QueueState(QueueId id) {
            this.id = id;
        }
    }

    /** A desired binding. Fields other than state and message are fixed. */
    static final class Binding {
        final long id;
        final String device;
        final List<Integer> queues;
        final String provider;
        final String owner;
        volatile BindingInfo.State state = BindingInfo.State.PENDING;
        volatile String message = "";
        /** A configuration that was refused: listed, binds nothing. */
        boolean rejected;

        Binding(long id, String device, List<Integer> queues, String provider, String owner) {
            this.id = id;
            this.device = device;
            this.queues = List.copyOf(queues);
            this.provider = provider;
            this.owner = owner;
        }

        BindingInfo info() {
            return new BindingInfo(id, device, queues, provider, owner, state, message);
        }
    }

    Multiplexer(PoolEngine engine) {
        this.engine = engine;
        this.reconciler = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pagepool-reconciler");
            t.setDaemon(true);
            reconcilerThread = t;
            return t;
        });
    }

    // ---- the factory side: which provider a new pool gets ------------------------------------

    /**
     * Creates a pool for a driver. A pool for a queue gets the queue's provider (the one being
     * installed during a restart, else the bound or default one), except that a pool which
     * cannot take unreadable memory gets the default provider when the queue's is unreadable:
     * that is the header pool of a header-split queue, as in Linux.
     */
    PagePool create(PoolParams params) {
        QueueId q = params.queue();
        MemoryProvider dflt = providers.defaultProvider();
        MemoryProvider provider = dflt;
        QueueState qs = null;
        if (q != null) {
            qs = queues.computeIfAbsent(q, QueueState::new);
            MemoryProvider installing = qs.installing;
            provider = installing != null ? installing : desiredProvider(q);
        }
        if (provider != null && !provider.capabilities().readable() && !params.allowUnreadable()) {
            provider = dflt;
        }
        if (provider == null) {
            throw new IllegalStateException("no memory provider for " + (q == null ? "the pool" : "queue " + q)
                    + " (expected: a MemoryProvider service with " + MemoryProvider.DEFAULT
                    + "=true, such as provider.heap)");
        }
        PagePool pool = engine.create(params, provider);
        if (qs != null && qs.installing == null && qs.current == null
                && (params.allowUnreadable() || provider.capabilities().readable())) {
            // The first pool of a queue made outside a restart: the driver bringing the queue up
            // on it (drivers create the payload pool before any header pool). Later pools made
            // outside a restart do not say what the queue runs on; restarts learn it from the
            // queue memory.
            qs.current = provider;
            qs.poolId = pool.id();
        }
        return pool;
    }

    /** The provider a queue should run on now, or null when there is none at all. */
    private MemoryProvider desiredProvider(QueueId q) {
        Binding b = bindingOf(q);
        if (b != null) {
            ProviderRegistry.Entry e = providers.byName(b.provider);
            NetDevice dev = devices.get(q.device());
            if (e != null && (e.provider().capabilities().readable() || dev == null || dev.headerSplit())) {
                return e.provider();
            }
        }
        return providers.defaultProvider();
    }

    private Binding bindingOf(QueueId q) {
        for (Binding b : bindings.values()) {
            if (b.device.equals(q.device()) && b.queues.contains(q.index())) {
                return b;
            }
        }
        return null;
    }

    // ---- events ------------------------------------------------------------------------------

    void addProvider(MemoryProvider provider, Map<String, Object> props) {
        providers.add(provider, props);
        event(this::reconcileAll);
    }

    void removeProvider(MemoryProvider provider, Map<String, Object> props) {
        providers.remove(props);
        // Move its queues away before returning: the service is gone, its memory stays until
        // the old pools drain.
        event(this::reconcileAll);
    }

    /** Reconciles after a service event, unless the engine is stopping (DS unbinds after deactivate). */
    private void event(Callable<?> task) {
        if (!reconciler.isShutdown()) {
            call(task);
        }
    }

    void addDevice(NetDevice device) {
        event(() -> {
            if (devices.putIfAbsent(device.name(), device) != null) {
                // A replacement bound before its predecessor is unbound: it takes over then.
                waitingDevices.add(device);
                LOG.log(Level.INFO, "a second device named {0} waits for the first to go", device.name());
                return null;
            }
            takeOver(device);
            return null;
        });
    }

    private void takeOver(NetDevice device) {
        for (int i = 0; i < device.rxQueueCount(); i++) {
            queues.computeIfAbsent(new QueueId(device.name(), i), QueueState::new);
        }
        reconcile(device);
        refreshBindingStates();
    }

    void removeDevice(NetDevice device) {
        event(() -> {
            if (waitingDevices.remove(device) || !devices.remove(device.name(), device)) {
                return null;
            }
            queues.keySet().removeIf(q -> q.device().equals(device.name()));
            NetDevice next = waitingDevices.stream().filter(d -> d.name().equals(device.name())).findFirst()
                    .orElse(null);
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
     * @param strict true for operators (an unknown device is an error); false for configuration,
     *        which may name a device that is not there yet (the binding waits for it)
     */
    BindingInfo bind(String device, List<Integer> queueList, String provider, String owner, boolean strict) {
        return call(() -> {
            checkBinding(device, queueList, provider, strict);
            Binding b = new Binding(bindingIds.incrementAndGet(), device, queueList, provider, owner);
            bindings.put(b.id, b);
            NetDevice dev = devices.get(device);
            if (dev != null) {
                reconcile(dev);
            }
            refreshBindingStates();
            return b.info();
        });
    }

    private void checkBinding(String device, List<Integer> queueList, String provider, boolean strict) {
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
        NetDevice dev = devices.get(device);
        if (dev == null && strict) {
            throw new IllegalArgumentException("device: '" + device + "' is unknown (expected: one of "
                    + devices.keySet().stream().sorted().toList() + ")");
        }
        for (int q : queueList) {
            if (q < 0 || (dev != null && q >= dev.rxQueueCount())) {
                throw new IllegalArgumentException("queue: " + q + " (expected: 0.."
                        + (dev == null ? "" : String.valueOf(dev.rxQueueCount() - 1)) + (dev == null ? "" : " on " + device)
                        + ")");
            }
            Binding other = bindingOf(new QueueId(device, q));
            if (other != null) {
                throw new IllegalArgumentException("queue " + device + "/" + q + " is already bound to provider '"
                        + other.provider + "' by binding " + other.id + " (" + other.owner + ")"
                        + " (expected: unbind it first)");
            }
        }
        ProviderRegistry.Entry e = providers.byName(provider);
        if (e != null && dev != null && !e.provider().capabilities().readable() && !dev.headerSplit()) {
            throw new IllegalArgumentException("provider '" + provider + "' is unreadable (device memory) and " + device
                    + " has header split off (expected: a device with header split on)");
        }
    }

    /** Lists a refused configuration as a failed binding of no queue, so operators see why. */
    void rejected(String owner, String device, String provider, String why) {
        call(() -> {
            Binding b = new Binding(bindingIds.incrementAndGet(), String.valueOf(device), List.of(),
                    String.valueOf(provider), owner);
            b.rejected = true;
            set(b, BindingInfo.State.FAILED, why);
            bindings.put(b.id, b);
            return null;
        });
    }

    List<BindingInfo> unbind(String device, List<Integer> queueList) {
        return call(() -> {
            NetDevice dev = devices.get(device);
            if (dev == null) {
                throw new IllegalArgumentException("device: '" + device + "' is unknown (expected: one of "
                        + devices.keySet().stream().sorted().toList() + ")");
            }
            List<Binding> found = new ArrayList<>();
            for (int q : queueList) {
                if (q < 0 || q >= dev.rxQueueCount()) {
                    throw new IllegalArgumentException("queue: " + q + " (expected: 0.." + (dev.rxQueueCount() - 1)
                            + " on " + device + ")");
                }
                Binding b = bindingOf(new QueueId(device, q));
                if (b == null) {
                    throw new IllegalArgumentException("queue " + device + "/" + q + " has no binding"
                            + " (expected: a bound queue; see the bindings list)");
                }
                if (!found.contains(b)) {
                    found.add(b);
                }
            }
            found.forEach(b -> bindings.remove(b.id));
            reconcile(dev);
            refreshBindingStates();
            return found.stream().map(Binding::info).toList();
        });
    }

    boolean unbind(long id) {
        return call(() -> {
            Binding b = bindings.remove(id);
            if (b == null) {
                return false;
            }
            NetDevice dev = devices.get(b.device);
            if (dev != null) {
                reconcile(dev);
            }
            refreshBindingStates();
            return true;
        });
    }

    /** Removes every binding made by {@code owner} (a bundle that stopped, a deleted configuration). */
    void unbindOwner(String owner) {
        event(() -> {
            List<Binding> gone = bindings.values().stream().filter(b -> b.owner.equals(owner)).toList();
            gone.forEach(b -> bindings.remove(b.id));
            for (NetDevice dev : devices.values()) {
                reconcile(dev);
            }
            refreshBindingStates();
            return null;
        });
    }

    // ---- the reconciler ----------------------------------------------------------------------

    private Object reconcileAll() {
        for (NetDevice dev : devices.values()) {
            reconcile(dev);
        }
        refreshBindingStates();
        return null;
    }

    /** Restarts each queue of the device whose memory is not what it should be. */
    private void reconcile(NetDevice dev) {
        for (int i = 0; i < dev.rxQueueCount(); i++) {
            QueueState qs = queues.computeIfAbsent(new QueueId(dev.name(), i), QueueState::new);
            MemoryProvider target = desiredProvider(qs.id);
            if (target != null && target == qs.current && qs.state == QueueInfo.State.UNHEALTHY) {
                // What failed is no longer wanted: the queue runs as configured again.
                qs.failedTarget = null;
                qs.state = QueueInfo.State.OK;
                qs.message = "";
            }
            if (target == null || target == qs.current || target == qs.failedTarget) {
                continue;
            }
            restart(dev, qs, target);
        }
    }

    /**
     * {@code netdev_rx_queue_restart}: allocate the new memory first, stop, start on the new
     * memory, free the old; if the start fails, start again on the old memory.
     */
    private void restart(NetDevice dev, QueueState qs, MemoryProvider target) {
        int q = qs.id.index();
        MemoryProvider old = qs.current;
        long t0 = System.nanoTime();
        QueueMemory fresh;
        qs.installing = target;
        try {
            fresh = dev.memAlloc(q);
        } catch (Exception e) {
            failed(qs, target, QueueInfo.State.UNHEALTHY, "allocating memory on provider '" + target.name()
                    + "' failed: " + e.getMessage() + "; the queue stays on its memory");
            return;
        } finally {
            qs.installing = null;
        }
        QueueMemory previous;
        long stopAt = System.nanoTime();
        try {
            previous = dev.stop(q);
        } catch (Exception e) {
            dev.memFree(fresh);
            failed(qs, target, QueueInfo.State.UNHEALTHY, "stopping the queue failed: " + e.getMessage());
            return;
        }
        try {
            dev.start(q, fresh);
        } catch (Exception e) {
            String why = "starting on provider '" + target.name() + "' failed: " + e.getMessage();
            try {
                dev.start(q, previous);
                failed(qs, target, QueueInfo.State.UNHEALTHY, why + "; restarted on its previous memory");
            } catch (Exception again) {
                failed(qs, target, QueueInfo.State.DOWN, why + "; restarting on its previous memory failed too: "
                        + again.getMessage());
                dev.memFree(previous);
            }
            dev.memFree(fresh);
            return;
        }
        long started = System.nanoTime();
        qs.lastPauseNanos = started - stopAt;
        qs.lastSwapNanos = started - t0;
        dev.memFree(previous);
        qs.current = target;
        qs.poolId = fresh.pool().id();
        qs.failedTarget = null;
        qs.restarts++;
        qs.lastRestartNanos = System.nanoTime() - t0;
        qs.state = QueueInfo.State.OK;
        qs.message = "";
        if (old != null && old != target) {
            old.uninstall(qs.id);
        }
    }

    private void failed(QueueState qs, MemoryProvider target, QueueInfo.State state, String message) {
        qs.failedTarget = target;
        qs.state = state;
        qs.message = message;
        LOG.log(Level.WARNING, "queue {0}: {1}", qs.id, message);
    }

    /** Derives each binding's state from its queues and the providers present. */
    private void refreshBindingStates() {
        for (Binding b : bindings.values()) {
            if (b.rejected) {
                continue;
            }
            NetDevice dev = devices.get(b.device);
            ProviderRegistry.Entry e = providers.byName(b.provider);
            if (dev == null) {
                set(b, BindingInfo.State.PENDING, "device '" + b.device + "' is not present");
                continue;
            }
            String bad = b.queues.stream().filter(q -> q >= dev.rxQueueCount()).map(q -> "queue " + q
                    + " is out of range (expected: 0.." + (dev.rxQueueCount() - 1) + ")").findFirst().orElse(null);
            if (bad != null) {
                set(b, BindingInfo.State.FAILED, bad);
            } else if (e == null) {
                set(b, BindingInfo.State.PENDING, "provider '" + b.provider + "' is not present");
            } else if (!e.provider().capabilities().readable() && !dev.headerSplit()) {
                set(b, BindingInfo.State.FAILED, "provider '" + b.provider + "' is unreadable and " + b.device
                        + " has header split off");
            } else {
                String failure = b.queues.stream().map(q -> queues.get(new QueueId(b.device, q)))
                        .filter(qs -> qs != null && qs.current != e.provider()).map(qs -> qs.id + ": " + qs.message)
                        .findFirst().orElse(null);
                if (failure == null) {
                    set(b, BindingInfo.State.APPLIED, "");
                } else {
                    set(b, BindingInfo.State.FAILED, failure);
                }
            }
        }
    }

    private static void set(Binding b, BindingInfo.State state, String message) {
        b.state = state;
        b.message = message;
    }

    // ---- introspection -----------------------------------------------------------------------

    List<BindingInfo> bindings() {
        return bindings.values().stream().sorted(Comparator.comparingLong(b -> b.id)).map(Binding::info).toList();
    }

    List<DeviceInfo> devices() {
        return devices.values().stream().map(d -> new DeviceInfo(d.name(), d.rxQueueCount(), d.headerSplit()))
                .sorted(Comparator.comparing(DeviceInfo::name)).toList();
    }

    List<QueueInfo> queues() {
        List<QueueInfo> out = new ArrayList<>();
        for (QueueState qs : queues.values()) {
            if (!devices.containsKey(qs.id.device())) {
                continue;
            }
            Binding b = bindingOf(qs.id);
            QueueInfo.State state = qs.state;
            if (state == QueueInfo.State.OK && b != null && providers.byName(b.provider) == null) {
                state = QueueInfo.State.PENDING;
            }
            MemoryProvider cur = qs.current;
            out.add(new QueueInfo(qs.id, cur == null ? "" : cur.name(), b == null ? 0 : b.id, qs.poolId, state,
                    qs.restarts, qs.message));
        }
        out.sort(Comparator.comparing((QueueInfo i) -> i.queue().device()).thenComparingInt(i -> i.queue().index()));
        return out;
    }

    List<ProviderInfo> providers() {
        MemoryProvider dflt = providers.defaultProvider();
        return providers.entries().stream().map(e -> new ProviderInfo(e.name(), e.provider().capabilities().readable(),
                e.provider() == dflt, e.ranking(), engine.poolsOf(e.provider()).size())).toList();
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
        Future<T> f = reconciler.submit(task);
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

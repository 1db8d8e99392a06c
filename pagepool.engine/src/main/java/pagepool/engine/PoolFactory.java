package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.framework.Bundle;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ServiceScope;

import pagepool.api.Checks;
import pagepool.api.PagePool;
import pagepool.api.PagePoolFactory;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.QueueId;
import pagepool.api.provider.MemoryProvider;

/**
 * The {@link PagePoolFactory} drivers use, one per using bundle (bundle scope): it knows its
 * caller, so pools for a queue are created only for the driver that registered the queue's
 * device. A pool for a queue gets the queue's provider (the one a restart is installing, else the
 * one it runs on or should run on), except that a pool which cannot take unreadable memory gets
 * the default provider when the queue's is unreadable: that is the header pool of a header-split
 * queue, as in Linux. A pool of no queue gets the default provider.
 *
 * <p>Everything a bundle created goes when it stops: the framework releases this factory then,
 * and every pool still open is closed, draining as a detach while pages are out (a driver that
 * stopped without closing its pools would otherwise pin their memory until restart). By then the
 * bundle's components have deactivated, so its NAPI threads no longer touch the pools.
 */
@Component(service = PagePoolFactory.class, scope = ServiceScope.BUNDLE)
public final class PoolFactory implements PagePoolFactory {

    private static final System.Logger LOG = System.getLogger(PoolFactory.class.getName());

    private final Engine engine;
    private final long caller;
    /** The pools made for the caller that may still be open; closed ones are pruned as new ones come. */
    private final Set<PagePoolImpl> created = ConcurrentHashMap.newKeySet();

    @Activate
    public PoolFactory(@Reference EngineComponent engine, ComponentContext context) {
        this(engine.engine(), bundleId(context.getUsingBundle()));
    }

    /** @param caller the bundle asking, or -1 for any (outside a framework) */
    PoolFactory(Engine engine, long caller) {
        this.engine = engine;
        this.caller = caller;
    }

    static long bundleId(Bundle b) {
        return b == null ? -1 : b.getBundleId();
    }

    @Override
    public PagePool create(PoolParams params) {
        if (params == null) {
            throw Checks.invalid("params", null, "pool parameters: PoolParams.builder()...build()");
        }
        QueueId q = params.queue();
        QueueState qs = q == null ? null : queueOfCaller(q);
        GuardedProvider dflt = engine.providers.defaultProvider();
        GuardedProvider provider = qs == null ? dflt
                : engine.reconciler.providerForNewPool(qs, engine.devices.get(q.device()));
        if (provider != null && !provider.caps.readable() && !params.allowUnreadable()) {
            provider = dflt;
        }
        if (provider == null) {
            throw new IllegalStateException("no memory provider for " + (q == null ? "the pool" : "queue " + q)
                    + " (expected: a MemoryProvider service with " + MemoryProvider.DEFAULT
                    + "=true, such as provider.heap)");
        }
        PagePoolImpl pool = engine.pools.create(params, provider);
        if (qs != null && qs.installing != null) {
            qs.installed.add(pool);
        }
        created.removeIf(p -> !p.isActive());
        created.add(pool);
        return pool;
    }

    /** The caller stopped (or let the factory go): every pool it left open is closed. */
    @Deactivate
    void deactivate() {
        int open = 0;
        for (PagePoolImpl p : List.copyOf(created)) {
            if (p.isActive()) {
                open++;
                try {
                    p.close();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "closing " + p + " of stopped bundle " + caller + " failed", e);
                }
            }
        }
        created.clear();
        engine.memory.release(caller);
        if (open > 0) {
            LOG.log(Level.WARNING, "bundle {0} stopped with {1} page pools open: closed them, their pages drain as a"
                    + " detach", String.valueOf(caller), open);
        }
    }

    /** The queue's state, if the queue is one of a device the caller registered. */
    private QueueState queueOfCaller(QueueId q) {
        Device d = engine.devices.get(q.device());
        if (d == null) {
            throw new IllegalArgumentException("queue " + q + ": device '" + q.device()
                    + "' is not registered (expected: a queue of a registered device, one of " + engine.devices.names()
                    + ")");
        }
        d.checkQueue(q.index());
        if (caller >= 0 && d.bundleId >= 0 && caller != d.bundleId) {
            throw new IllegalArgumentException("queue " + q + " belongs to the driver that registered " + d.name
                    + " (bundle " + d.bundleId + "), not to bundle " + caller
                    + " (expected: pools for a queue are created by its driver)");
        }
        return engine.devices.queue(d, q.index());
    }

    @Override
    public List<PoolInfo> pools() {
        return engine.pools();
    }

    @Override
    public void reserve(String key, long bytes) {
        engine.memory.reserve(caller, key, bytes);
    }
}

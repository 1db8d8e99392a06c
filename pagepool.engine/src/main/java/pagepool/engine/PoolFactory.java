package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ServiceScope;

import pagepool.api.PagePool;
import pagepool.api.PagePoolFactory;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;

/**
 * The {@link PagePoolFactory} drivers use, one per using bundle (bundle scope): it knows its
 * caller, so pools for a queue are created only for the driver that registered the queue's
 * device; the engine picks each pool's provider ({@link Engine#createPool}).
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
    /** The pools made for the caller that may still be open; closed ones are pruned now and then ({@link #prune}). */
    private final Set<PagePoolImpl> created = ConcurrentHashMap.newKeySet();
    private static final int MIN_PRUNE = 64;
    /** The set's size at which the next create prunes it. */
    private final java.util.concurrent.atomic.AtomicInteger pruneAt = new java.util.concurrent.atomic.AtomicInteger(
            MIN_PRUNE);

    @Activate
    public PoolFactory(@Reference EngineComponent engine, ComponentContext context) {
        this(engine.engine(), Device.bundleId(context.getUsingBundle()));
    }

    /** @param caller the bundle asking, or -1 for any (outside a framework) */
    PoolFactory(Engine engine, long caller) {
        this.engine = engine;
        this.caller = caller;
    }


    @Override
    public PagePool create(PoolParams params) {
        PagePoolImpl pool = engine.createPool(params, caller);
        created.add(pool);
        prune();
        return pool;
    }

    /**
     * Forgets closed pools once the set has doubled since it last did: a scan per create cost a
     * restart ~20 µs with 2,048 pools open (1,024 queues), amortized it is nothing.
     */
    private void prune() {
        int at = pruneAt.get();
        if (created.size() >= at && pruneAt.compareAndSet(at, Integer.MAX_VALUE)) { // one pruner at a time
            created.removeIf(p -> !p.isActive());
            pruneAt.set(Math.max(MIN_PRUNE, 2 * created.size()));
        }
    }

    /** How many pools it keeps track of, closed ones not yet pruned included. */
    int tracked() {
        return created.size();
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

    @Override
    public List<PoolInfo> pools() {
        return engine.pools();
    }

    @Override
    public void reserve(String key, long bytes) {
        engine.memory.reserve(caller, key, bytes);
    }
}

package pagepool.engine;

import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
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
 */
@Component(service = PagePoolFactory.class, scope = ServiceScope.BUNDLE)
public final class PoolFactory implements PagePoolFactory {

    private final Engine engine;
    private final long caller;

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
        return pool;
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
}

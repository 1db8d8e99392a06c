package pagepool.engine;

import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ServiceScope;

import pagepool.api.PagePool;
import pagepool.api.PagePoolFactory;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;

/**
 * The {@link PagePoolFactory} drivers use, one per using bundle (bundle scope): it knows its
 * caller, so pools for a queue are created only for the driver that registered the queue's
 * device. Pools get the provider the multiplexer picks for their queue.
 */
@Component(service = PagePoolFactory.class, scope = ServiceScope.BUNDLE)
public final class PoolFactoryComponent implements PagePoolFactory {

    private final Multiplexer mux;
    private final long caller;

    @Activate
    public PoolFactoryComponent(@Reference EngineComponent engine, ComponentContext context) {
        this(engine.multiplexer(), bundleId(context.getUsingBundle()));
    }

    /** A factory outside a framework (tests, benchmarks): for any caller. */
    PoolFactoryComponent(Multiplexer mux, long caller) {
        this.mux = mux;
        this.caller = caller;
    }

    static long bundleId(Bundle b) {
        return b == null ? -1 : b.getBundleId();
    }

    @Override
    public PagePool create(PoolParams params) {
        return mux.create(params, caller);
    }

    @Override
    public List<PoolInfo> pools() {
        return mux.pools();
    }
}

package pagepool.engine;

import java.util.List;

import pagepool.api.PagePool;
import pagepool.api.PagePoolFactory;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;

/** The factory drivers see: pools on the provider the multiplexer picks for their queue. */
final class MultiplexedPoolFactory implements PagePoolFactory {

    private final PoolEngine engine;
    private final Multiplexer mux;

    MultiplexedPoolFactory(PoolEngine engine, Multiplexer mux) {
        this.engine = engine;
        this.mux = mux;
    }

    @Override
    public PagePool create(PoolParams params) {
        return mux.create(params);
    }

    @Override
    public List<PoolInfo> pools() {
        return engine.pools();
    }
}

package pagepool.engine;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;
import pagepool.driver.sim.SimDevice;
import pagepool.driver.sim.SimSettings;
import pagepool.provider.heap.HeapMemoryProvider;

/** An engine, its multiplexer, the heap provider and a simulated device, without a framework. */
final class BenchRig implements AutoCloseable {

    private static final AtomicLong SERVICE_IDS = new AtomicLong();

    final PoolEngine engine = new PoolEngine(100, 60_000);
    final Multiplexer mux = new Multiplexer(engine);
    final SimDevice device;

    BenchRig(SimSettings settings) {
        add(new HeapMemoryProvider(4L << 30), true);
        device = new SimDevice(settings, new PoolFactoryComponent(mux, -1)).open();
        mux.addDevice(device);
    }

    void add(MemoryProvider p, boolean isDefault) {
        mux.addProvider(p, Map.of(MemoryProvider.NAME, p.name(), MemoryProvider.DEFAULT, isDefault, "service.id",
                SERVICE_IDS.incrementAndGet(), "service.ranking", 0));
    }

    long stat(int queue, String name) {
        return device.queueStats(queue).get(name);
    }

    @Override
    public void close() {
        device.close();
        mux.close();
        engine.close();
    }

    /** Heap memory under another name: a second provider to swap to. */
    static final class AltHeap implements MemoryProvider {
        private final HeapMemoryProvider heap = new HeapMemoryProvider(4L << 30);

        @Override
        public String name() {
            return "heap2";
        }

        @Override
        public ProviderCapabilities capabilities() {
            return heap.capabilities();
        }

        @Override
        public void init(PoolContext pool) throws ProviderRefusedException {
            heap.init(pool);
        }

        @Override
        public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
            return heap.allocNetmems(pool, batch, max);
        }

        @Override
        public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
            return heap.releaseNetmem(pool, netmem);
        }

        @Override
        public void destroy(PoolContext pool) {
            heap.destroy(pool);
        }

        @Override
        public Map<String, Object> describe(PoolContext pool) {
            return heap.describe(pool);
        }
    }
}

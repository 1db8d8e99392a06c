package pagepool.bench;

import java.util.Map;

import pagepool.api.binding.PoolBindings;
import pagepool.api.provider.MemoryProvider;
import pagepool.driver.sim.SimDevice;
import pagepool.driver.sim.SimSettings;
import pagepool.engine.StandaloneEngine;
import pagepool.provider.heap.HeapMemoryProvider;

/** The engine, the heap provider and a simulated device, without a framework. */
final class BenchRig implements AutoCloseable {

    final StandaloneEngine engine = new StandaloneEngine();
    final PoolBindings bindings = engine.bindings();
    final SimDevice device;

    BenchRig(SimSettings settings) {
        engine.addProvider(new HeapMemoryProvider(4L << 30), true);
        device = new SimDevice(settings, engine.factory()).open();
        engine.addDevice(device);
    }

    void add(MemoryProvider p) {
        engine.addProvider(p, false);
    }

    /** A second heap provider, named {@code heap2}: the same memory to swap to. */
    void addSecondHeap() {
        engine.addProvider(new HeapMemoryProvider(4L << 30), Map.of(MemoryProvider.NAME, "heap2"));
    }

    long stat(int queue, String name) {
        return device.queueStats(queue).get(name);
    }

    @Override
    public void close() {
        device.close();
        engine.close();
    }
}

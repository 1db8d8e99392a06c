package pagepool.engine;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.osgi.framework.Constants;

import pagepool.api.PagePoolFactory;
import pagepool.api.QueueId;
import pagepool.api.binding.QueueInfo;
import pagepool.api.provider.MemoryProvider;
import pagepool.driver.sim.SimDevice;
import pagepool.driver.sim.SimSettings;
import pagepool.provider.heap.HeapMemoryProvider;

/** An engine, its multiplexer, the heap provider as default and a simulated NIC, without a framework. */
abstract class SimEngineRig {

    static final AtomicLong SERVICE_IDS = new AtomicLong();

    final PoolEngine engine = new PoolEngine(10, 60_000);
    final Multiplexer mux = new Multiplexer(engine);
    final HeapMemoryProvider heap = new HeapMemoryProvider(1L << 30);
    final PagePoolFactory factory = new PoolFactoryComponent(mux, -1);
    SimDevice device;

    @AfterEach
    void tearDown() {
        if (device != null) {
            device.close();
        }
        mux.close();
        engine.close();
    }

    static Map<String, Object> props(MemoryProvider p, boolean isDefault) {
        return Map.of(MemoryProvider.NAME, p.name(), MemoryProvider.DEFAULT, isDefault, Constants.SERVICE_ID,
                SERVICE_IDS.incrementAndGet(), Constants.SERVICE_RANKING, 0);
    }

    /** Adds a provider that is not the default. */
    <P extends MemoryProvider> P add(P p) {
        mux.addProvider(p, props(p, false));
        return p;
    }

    SimDevice open(SimSettings settings) throws Exception {
        mux.addProvider(heap, props(heap, true));
        device = new SimDevice(settings, factory).open();
        mux.addDevice(device);
        return device;
    }

    long stat(int queue, String name) {
        return device.queueStats(queue).get(name);
    }

    /**
     * Drops at the NIC: a stopped queue or an empty RX ring, what a swap could cause. Drops at a
     * full socket backlog are the stack's, and depend on how the two cores are shared.
     */
    long nicDrops(int queue) {
        return stat(queue, "drops-stopped") + stat(queue, "drops-no-buffer");
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    QueueInfo queue(int i) {
        return mux.queues().stream().filter(q -> q.queue().equals(new QueueId(device.name(), i))).findFirst()
                .orElseThrow();
    }

    void awaitTrafficOnAllQueues(long packets) throws InterruptedException {
        for (int q = 0; q < device.rxQueueCount(); q++) {
            int i = q;
            await("packets on queue " + q, () -> stat(i, "packets") > packets);
        }
    }

    /** Every queue's packets are accounted for: generated = delivered + dropped, none corrupt. */
    void assertAccounted() {
        for (int q = 0; q < device.rxQueueCount(); q++) {
            Map<String, Long> s = device.queueStats(q);
            org.junit.jupiter.api.Assertions.assertEquals(s.get("generated"), s.get("packets") + s.get("drops"),
                    "queue " + q + ": " + s);
            org.junit.jupiter.api.Assertions.assertEquals(0L, s.get("corrupt"), device.lastCorruption(q));
        }
    }
}

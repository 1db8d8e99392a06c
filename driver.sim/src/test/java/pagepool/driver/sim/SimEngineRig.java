package pagepool.driver.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static pagepool.api.testing.Await.await;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;

import pagepool.api.PoolInfo;
import pagepool.api.QueueId;
import pagepool.api.binding.PoolBindings;
import pagepool.api.binding.QueueInfo;
import pagepool.api.provider.MemoryProvider;
import pagepool.engine.StandaloneEngine;
import pagepool.provider.heap.HeapMemoryProvider;

/** The engine, the heap provider as default and a simulated NIC, without a framework. */
abstract class SimEngineRig {

    final StandaloneEngine engine = new StandaloneEngine(10, 60_000);
    final PoolBindings bindings = engine.bindings();
    final HeapMemoryProvider heap = new HeapMemoryProvider(1L << 30);
    SimDevice device;

    @AfterEach
    void tearDown() {
        if (device != null) {
            device.close();
        }
        engine.close();
    }

    /** Adds a provider that is not the default. */
    <P extends MemoryProvider> P add(P p) {
        engine.addProvider(p, false);
        return p;
    }

    /** sim0 for tests: 4 queues, 256-entry rings, 1500-byte packets, 20k pps, sockets holding pages 50 us. */
    static SimSettings.Builder sim0() {
        return SimSettings.builder("sim0").ringSize(256).ratePps(20_000).holdMicros(50);
    }

    /** Starts the device on the engine, with the heap provider as the default. */
    SimDevice open(SimSettings.Builder settings) {
        engine.addProvider(heap, true);
        device = new SimDevice(settings.build(), engine.factory()).open();
        engine.addDevice(device);
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

    QueueInfo queue(int i) {
        return bindings.queues().stream().filter(q -> q.queue().equals(new QueueId(device.name(), i))).findFirst()
                .orElseThrow();
    }

    /** Whether every pool with memory from {@code provider} is destroyed. */
    boolean noPoolsOf(String provider) {
        return bindings.pools().stream().map(PoolInfo::provider).noneMatch(provider::equals);
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
            assertEquals(s.get("generated"), s.get("packets") + s.get("drops"), "queue " + q + ": " + s);
            assertEquals(0L, s.get("corrupt"), device.lastCorruption(q));
        }
    }
}

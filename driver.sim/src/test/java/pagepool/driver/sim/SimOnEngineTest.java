package pagepool.driver.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pagepool.api.testing.Await.await;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.osgi.framework.Constants;

import pagepool.api.PoolInfo;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.queue.QueueDebug;
import pagepool.api.testing.TestProvider;
import pagepool.provider.hugepage.HugePageProvider;

/** The engine restarting queues of a running simulated NIC, without a framework. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SimOnEngineTest extends SimEngineRig {

    @Test
    void deviceComesUpOnTheDefaultProviderWithTrafficVerified() throws Exception {
        open(sim0());
        awaitTrafficOnAllQueues(200);
        for (QueueInfo q : bindings.queues()) {
            assertEquals("heap", q.provider());
            assertEquals(QueueInfo.State.OK, q.state());
        }
        assertEquals(0, stat(0, "corrupt"), device.lastCorruption(0));
    }

    @Test
    void deviceUpBeforeAnyProviderStartsItsQueuesWhenOneArrives() throws Exception {
        device = new SimDevice(sim0().build(), engine.factory()).open();
        engine.addDevice(device);
        assertEquals(QueueInfo.State.DOWN, queue(0).state());
        assertEquals("no memory provider can serve it; it starts when one can", queue(0).message());
        Thread.sleep(20);
        assertEquals(0, stat(0, "packets"), "no memory, no packets");
        assertEquals(0, stat(0, "generated"), "a queue never enabled receives nothing, so it drops nothing");

        engine.addProvider(heap, true);

        for (QueueInfo q : bindings.queues()) {
            assertEquals("heap", q.provider());
            assertEquals(QueueInfo.State.OK, q.state());
        }
        awaitTrafficOnAllQueues(100);
    }

    @Test
    void bindingRestartsOnlyItsQueueAndOtherQueuesKeepFlowing() throws Exception {
        open(sim0());
        TestProvider fast = new TestProvider("fast");
        engine.addProvider(fast, false);
        // Past the JIT's warm-up, when a cold socket thread may still fall behind and drop.
        awaitTrafficOnAllQueues(5000);
        long[] before = new long[4];
        long[] dropsBefore = new long[4];
        for (int q = 0; q < 4; q++) {
            before[q] = stat(q, "packets");
            dropsBefore[q] = nicDrops(q);
        }

        BindingInfo b = bindings.bind("sim0", List.of(1), "fast");

        assertEquals(BindingInfo.State.APPLIED, b.state(), b.message());
        assertEquals("fast", queue(1).provider());
        for (int q : new int[] {0, 2, 3}) {
            assertEquals("heap", queue(q).provider());
            assertEquals(0, stat(q, "restarts"), "queue " + q + " was never restarted");
        }
        assertEquals(1, stat(1, "restarts"));
        for (int q = 0; q < 4; q++) {
            int i = q;
            await("traffic on queue " + q + " after the swap", () -> stat(i, "packets") > before[i] + 200);
            if (q != 1) {
                assertEquals(dropsBefore[q], nicDrops(q), "the swap of queue 1 made queue " + q + " drop: "
                        + device.queueStats(q));
            }
        }
        PoolInfo pool = bindings.pools().stream().filter(p -> p.id() == queue(1).poolId()).findFirst().orElseThrow();
        assertEquals("fast", pool.provider());
    }

    @Test
    void providerLeavingMovesItsQueuesHomeAndItsPoolsDrainLater() throws Exception {
        open(sim0().socketFraction(1.0).holdMicros(20_000));
        TestProvider fast = new TestProvider("fast");
        engine.addProvider(fast, false);
        bindings.bind("sim0", List.of(1, 2), "fast");
        awaitTrafficOnAllQueues(500);
        assertTrue(fast.pagesOut.get() > 0);

        engine.removeProvider(fast);

        assertEquals("heap", queue(1).provider());
        assertEquals("heap", queue(2).provider());
        assertEquals(QueueInfo.State.PENDING, queue(1).state());
        assertEquals(BindingInfo.State.PENDING, bindings.bindings().get(0).state());
        // Socket threads hold pages for 20 ms: the old pools drain, then the provider's memory goes.
        await("fast pools destroyed", () -> noPoolsOf("fast"));
        assertEquals(0, fast.pagesOut.get(), "every page came back to the provider");
        assertEquals(2, fast.destroys.get());

        engine.addProvider(fast, false);
        assertEquals("fast", queue(1).provider(), "the pending binding applies when the provider returns");
        assertEquals(BindingInfo.State.APPLIED, bindings.bindings().get(0).state());
    }

    @Test
    void aReplacementBoundBeforeTheOldOneIsUnboundTakesOverWithoutAPendingGap() throws Exception {
        open(sim0());
        TestProvider old = new TestProvider("fast");
        engine.addProvider(old, false);
        bindings.bind("sim0", List.of(1), "fast");
        int oldPool = queue(1).poolId();

        // Greedy dynamic references: the better replacement arrives first, then the old one leaves.
        TestProvider replacement = new TestProvider("fast");
        engine.addProvider(replacement, Map.of(Constants.SERVICE_RANKING, 10));
        int newPool = queue(1).poolId();
        assertTrue(newPool != oldPool, "restarted onto the higher-ranked replacement");
        engine.removeProvider(old);

        assertEquals(newPool, queue(1).poolId(), "the old one leaving changes nothing more");
        assertEquals(QueueInfo.State.OK, queue(1).state());
        assertEquals(BindingInfo.State.APPLIED, bindings.bindings().get(0).state());
        await("the old provider's pool drained", () -> old.destroys.get() == old.initsCompleted.get());
        assertEquals(0, old.pagesOut.get());
        assertTrue(replacement.pagesOut.get() > 0);
    }

    @Test
    void aReplacementDeviceBoundBeforeTheOldOneIsUnboundTakesOverItsBindings() throws Exception {
        open(sim0());
        TestProvider fast = new TestProvider("fast");
        engine.addProvider(fast, false);
        bindings.bind("sim0", List.of(2), "fast");
        SimDevice old = device;
        SimDevice replacement = new SimDevice(sim0().build(), engine.factory()).open();
        try {
            engine.addDevice(replacement);
            assertEquals(old.queueStats(2).get("pool-id"), (long) queue(2).poolId(), "the first device still serves");

            engine.removeDevice(old);
            old.close();
            device = replacement;

            assertEquals("fast", queue(2).provider(), "the binding applies to the new device");
            assertEquals(replacement.queueStats(2).get("pool-id"), (long) queue(2).poolId());
            awaitTrafficOnAllQueues(100);
        } finally {
            if (device != replacement) {
                replacement.close();
            }
        }
    }

    @Test
    void aSwapThatFailsLeavesTheQueueRunningOnItsMemoryWithoutADrop() throws Exception {
        open(sim0());
        TestProvider far = new TestProvider("far").iovaBase(1L << 52);
        engine.addProvider(far, false);
        awaitTrafficOnAllQueues(100);
        long stoppedBefore = stat(2, "drops-stopped");

        BindingInfo b = bindings.bind("sim0", List.of(2), "far");

        assertEquals(BindingInfo.State.FAILED, bindings.bindings().get(0).state());
        QueueInfo q2 = queue(2);
        assertEquals(QueueInfo.State.UNHEALTHY, q2.state());
        assertEquals("heap", q2.provider(), "still on its old memory");
        assertTrue(q2.message().startsWith("swapping onto provider 'far' failed: queue sim0/2: buffer at DMA address"),
                q2.message());
        assertTrue(q2.message().endsWith("is beyond the NIC's 48-bit DMA mask; it runs on 'heap' instead"), q2.message());
        assertEquals(stoppedBefore, stat(2, "drops-stopped"), "never stopped");
        long packets = stat(2, "packets");
        await("traffic on queue 2", () -> stat(2, "packets") > packets + 200);
        await("the pool that never ran is gone", () -> noPoolsOf("far"));

        bindings.unbind(b.id());
        assertEquals(QueueInfo.State.OK, queue(2).state());
    }

    @Test
    void aFailedStartOfADriverThatStopsRollsBackToTheOldMemoryAndTrafficContinues() throws Exception {
        open(sim0());
        device.resetMode(QueueDebug.ResetMode.NAPI_STOPPED_FIRST); // a driver that stops, then starts
        TestProvider far = new TestProvider("far").iovaBase(1L << 52);
        engine.addProvider(far, false);
        awaitTrafficOnAllQueues(100);

        BindingInfo b = bindings.bind("sim0", List.of(2), "far");

        assertEquals(BindingInfo.State.FAILED, bindings.bindings().get(0).state());
        QueueInfo q2 = queue(2);
        assertEquals(QueueInfo.State.UNHEALTHY, q2.state());
        assertEquals("heap", q2.provider(), "back on its old memory");
        assertTrue(q2.message().contains("48-bit DMA mask"), q2.message());
        assertTrue(q2.message().contains("restarted on its previous memory"), q2.message());
        long packets = stat(2, "packets");
        await("traffic on queue 2 after the rollback", () -> stat(2, "packets") > packets + 200);
        await("the pool that never started is gone", () -> noPoolsOf("far"));

        bindings.unbind(b.id());
        assertEquals(QueueInfo.State.OK, queue(2).state());
    }

    @Test
    void badBindingsAreRefusedAndChangeNothing() throws Exception {
        open(sim0());
        MemoryProvider devmem = new TestProvider("devmem", new ProviderCapabilities(false, 0, true, true));
        engine.addProvider(devmem, false);
        bindings.bind("sim0", List.of(0), "heap");
        List<BindingInfo> before = bindings.bindings();

        assertEquals("device: 'eth9' is unknown (expected: one of [sim0])", assertThrows(
                IllegalArgumentException.class, () -> bindings.bind("eth9", List.of(0), "heap")).getMessage());
        assertEquals("queue: 4 (expected: 0..3 on sim0)", assertThrows(IllegalArgumentException.class,
                () -> bindings.bind("sim0", List.of(1, 4), "heap")).getMessage());
        assertEquals("queue sim0/0 is already bound to provider 'heap' by binding " + before.get(0).id()
                + " (standalone) (expected: unbind it first)", assertThrows(IllegalArgumentException.class,
                        () -> bindings.bind("sim0", List.of(0), "heap")).getMessage());
        assertEquals("provider 'devmem' is unreadable (device memory) and sim0 has header split off"
                + " (expected: a device with header split on)", assertThrows(IllegalArgumentException.class,
                        () -> bindings.bind("sim0", List.of(3), "devmem")).getMessage());
        assertEquals("queues: [] (expected: at least one queue index)", assertThrows(IllegalArgumentException.class,
                () -> bindings.bind("sim0", List.of(), "heap")).getMessage());
        assertEquals("queue sim0/2 has no binding (expected: a bound queue; see the bindings list)",
                assertThrows(IllegalArgumentException.class, () -> bindings.unbind("sim0", List.of(2))).getMessage());

        assertEquals(before, bindings.bindings());
        for (int q = 0; q < 4; q++) {
            assertEquals(0, stat(q, "restarts"), "no queue restarted");
        }
    }

    @Test
    void hugePagesCutIotlbMissesOnTheQueuesBoundToThem() throws Exception {
        open(sim0());
        HugePageProvider huge = new HugePageProvider(8, 2L << 20, true, false);
        engine.addProvider(huge, false);
        awaitTrafficOnAllQueues(1000);

        bindings.bind("sim0", List.of(2, 3), "hugepage");
        long[] lookups = new long[4];
        long[] misses = new long[4];
        long[] packets = new long[4];
        for (int q = 0; q < 4; q++) {
            lookups[q] = stat(q, "iotlb-lookups");
            misses[q] = stat(q, "iotlb-misses");
            packets[q] = stat(q, "packets");
        }
        for (int q = 0; q < 4; q++) {
            int i = q;
            await("3000 more packets on queue " + q, () -> stat(i, "packets") > packets[i] + 3000);
        }
        for (int q = 0; q < 4; q++) {
            double rate = (stat(q, "iotlb-misses") - misses[q]) / (double) (stat(q, "iotlb-lookups") - lookups[q]);
            if (q < 2) {
                assertTrue(rate > 0.9, "heap queue " + q + ": a 256-page ring misses a 64-entry IOTLB: " + rate);
            } else {
                assertTrue(rate < 0.01, "huge-page queue " + q + ": one entry per 512 pages: " + rate);
            }
        }
        assertEquals(0, stat(2, "corrupt"), device.lastCorruption(2));

        device.close();
        device = null;
        await("every pool destroyed", () -> bindings.pools().isEmpty());
        huge.deactivate();
        assertTrue(huge.isUnmapped(), "every huge page back: unmapped");
    }

    @Test
    void aNewRingHasTwoNapiBudgetsPostedBeforeTheQueueMovesAndNapiPostsTheRestWithoutADrop() throws Exception {
        open(sim0().ringSize(1024).ratePps(200_000).socketFraction(0));
        TestProvider fast = add(new TestProvider("fast"));
        awaitTrafficOnAllQueues(100);

        pagepool.api.queue.QueueMemory m = device.queueOps().memAlloc(1);
        assertEquals(SimQueue.PREFILL, ((QueueMem) m).posted(), "posted before the queue moves");
        device.queueOps().memFree(m);

        for (int i = 0; i < 20; i++) {
            BindingInfo b = bindings.bind("sim0", List.of(0), "fast");
            assertEquals(BindingInfo.State.APPLIED, b.state(), b.message());
            await("NAPI posted the rest of the ring on 'fast'", () -> stat(0, "rx-posted") == 1024);
            bindings.unbind(b.id()); // back to heap, on a new ring too
            await("NAPI posted the rest of the ring on 'heap'", () -> stat(0, "rx-posted") == 1024);
        }
        assertEquals(0, nicDrops(0), "no packet found the ring empty: " + device.queueStats(0));
        assertEquals(0, stat(0, "alloc-fail"));
        assertTrue(fast.pagesHandedOut.get() > 0);
    }

    @Test
    void twoHundredSwapsUnderTrafficLoseNothingAndNeverStopAQueue() throws Exception {
        open(sim0().ratePps(50_000));
        TestProvider fast = new TestProvider("fast");
        engine.addProvider(fast, false);
        awaitTrafficOnAllQueues(100);

        for (int i = 0; i < 200; i++) {
            BindingInfo b = bindings.bind("sim0", List.of(i % 4), "fast");
            assertEquals(BindingInfo.State.APPLIED, b.state());
            bindings.unbind(b.id());
        }
        device.setCarrier(false);
        device.close();

        for (int q = 0; q < 4; q++) {
            Map<String, Long> s = device.queueStats(q);
            assertEquals(s.get("generated"), s.get("packets") + s.get("drops"), "queue " + q + ": " + s);
            assertEquals(s.get("packets"), s.get("verified"), "every delivered packet was verified: " + s);
            assertEquals(0, s.get("corrupt"), device.lastCorruption(q));
            assertEquals(100, s.get("restarts"), "queue " + q + " restarted 100 times");
            assertEquals(0, s.get("drops-stopped"), "swapped, never stopped: " + s);
            assertEquals(0, s.get("drops-no-buffer"), "a new ring is never found empty: " + s);
        }
        device = null;
        await("every pool destroyed", () -> bindings.pools().isEmpty());
        assertEquals(0, fast.pagesOut.get(), "the second provider got back every page");
    }
}

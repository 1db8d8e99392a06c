package pagepool.driver.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pagepool.api.testing.Await.await;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import pagepool.api.PoolInfo;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.queue.QueueDebug;
import pagepool.api.queue.QueueMemory;
import pagepool.api.testing.TestProvider;

/**
 * A device's life the way Linux lives it: link down and up, a page held across the down,
 * back-to-back restarts, reset modes, and hundreds of queues sharing a few NAPI threads.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeviceLifecycleTest extends SimEngineRig {

    private List<PoolInfo> poolsOfDevice() {
        return bindings.pools().stream().filter(p -> p.queue() != null && p.queue().device().equals("sim0")).toList();
    }

    @Test
    void stopRightAfterStartNeverHandsBackMemoryNapiStillUses() throws Exception {
        open(sim0().ratePps(0)); // NAPI as busy as it gets
        awaitTrafficOnAllQueues(1000);
        // The driver's queue API back to back, as fast as the caller goes: stop follows start at once.
        for (int i = 0; i < 2000; i++) {
            QueueMemory fresh = device.queueOps().memAlloc(0);
            QueueMemory old = device.queueOps().stop(0);
            device.queueOps().start(0, fresh);
            device.queueOps().memFree(old);
        }
        QueueMemory last = device.queueOps().stop(0);
        device.queueOps().start(0, last);
        long before = stat(0, "packets");
        await("queue 0 still receives", () -> stat(0, "packets") > before + 1000);
        assertEquals(0, stat(0, "errors"));
        assertEquals(0, stat(0, "corrupt"), device.lastCorruption(0));
    }

    @Test
    void backToBackEngineRestartsUnderTrafficKeepEveryQueueHealthy() throws Exception {
        open(sim0().ratePps(50_000));
        awaitTrafficOnAllQueues(1000);
        for (int i = 0; i < 400; i++) {
            QueueInfo q = bindings.restartQueue("sim0", i % 4);
            assertEquals(QueueInfo.State.OK, q.state(), q.message());
        }
        device.setCarrier(false);
        device.close();
        assertAccounted();
        for (int q = 0; q < 4; q++) {
            assertEquals(100, stat(q, "restarts"), "queue " + q);
        }
        device = null;
        await("every pool destroyed", () -> bindings.pools().isEmpty());
    }

    @Test
    void linkDownFreesTheRingsAndAHeldPageKeepsItsPoolDetachedUntilItComesBack() throws Exception {
        // Everything consumed in NAPI: at link down only the held page is out.
        open(sim0().socketFraction(0).holdMicros(0));
        TestProvider other = add(new TestProvider("other"));
        awaitTrafficOnAllQueues(500);
        assertTrue(device.holdPage(1));
        int pool1 = queue(1).poolId();

        device.setAdminUp(false);
        await("the engine took sim0 down", () -> !bindings.devices().get(0).up());

        List<PoolInfo> left = poolsOfDevice();
        assertEquals(1, left.size(), "the other pools were destroyed: " + left);
        PoolInfo held = left.get(0);
        assertEquals(pool1, held.id());
        assertEquals(PoolInfo.State.DETACHED, held.state());
        assertEquals(1, held.inflight(), "exactly the held page: hold - release, ring buffers included");
        assertTrue(held.detachTime() != null);
        for (int q = 0; q < 4; q++) {
            assertEquals(QueueInfo.State.DOWN, queue(q).state());
            assertEquals("the device is down", queue(q).message());
        }
        long drops = stat(0, "drops-stopped");
        await("what arrives while down is dropped and counted", () -> stat(0, "drops-stopped") > drops + 100);

        // Asked while down: recorded, applied at up.
        BindingInfo b = bindings.bind("sim0", List.of(2), "other");
        assertEquals(BindingInfo.State.PENDING, b.state());
        assertEquals("device 'sim0' is down; it applies when it comes up", b.message());
        assertEquals(QueueInfo.State.DOWN, bindings.restartQueue("sim0", 3).state(), "a restart asked while down waits too");

        assertEquals(1, device.releaseHeldPages(1));
        await("the last page back destroys the pool", () -> poolsOfDevice().isEmpty());

        device.setAdminUp(true);
        await("up again", () -> bindings.devices().get(0).up() && poolsOfDevice().size() == 4);
        assertEquals("other", queue(2).provider());
        assertEquals(BindingInfo.State.APPLIED, bindings.bindings().get(0).state());
        awaitTrafficOnAllQueues(stat(3, "packets") + 500);
        assertTrue(poolsOfDevice().stream().allMatch(p -> p.state() == PoolInfo.State.ACTIVE));
        for (int q = 0; q < 4; q++) {
            // One definition of a restart: pp:queues (the engine) and pp:devstats (the driver) agree.
            assertEquals(stat(q, "restarts"), queue(q).restarts(), "queue " + q);
            assertEquals(1, queue(q).restarts(), "the start after link up (queue 2 went onto 'other' with it)");
        }
    }

    @Test
    void resetModesChooseWhetherTheQueueGetsANewNapiContext() throws Exception {
        open(sim0());
        awaitTrafficOnAllQueues(500);
        long napi = stat(1, "napi-id");
        int pool = queue(1).poolId();

        device.resetMode(QueueDebug.ResetMode.POOL);
        bindings.restartQueue("sim0", 1);
        assertEquals(napi, stat(1, "napi-id"), "a new pool, the same NAPI context");
        assertNotEquals(pool, queue(1).poolId());

        device.resetMode(QueueDebug.ResetMode.NAPI);
        long drops = stat(1, "drops");
        bindings.restartQueue("sim0", 1);
        long napi2 = stat(1, "napi-id");
        assertNotEquals(napi, napi2, "a new NAPI context");
        assertEquals(drops, stat(1, "drops"), "switched between two polls: nothing dropped");

        device.resetMode(QueueDebug.ResetMode.NAPI_STOPPED_FIRST);
        bindings.restartQueue("sim0", 1);
        assertNotEquals(napi2, stat(1, "napi-id"));
        assertEquals(3, stat(1, "restarts"));
        assertEquals(QueueInfo.State.OK, queue(1).state());
        long p = stat(1, "packets");
        await("traffic after the resets", () -> stat(1, "packets") > p + 500);
    }

    @Test
    void aProviderSlowToSetUpAPoolDelaysOnlyItsOwnQueueNotTheOthersOnItsNapiThread() throws Exception {
        open(sim0().napiThreads(1).ratePps(20_000)); // every queue on one NAPI thread
        awaitTrafficOnAllQueues(200);
        java.util.concurrent.CountDownLatch initStarted = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        add(new TestProvider("slow") {
            @Override
            public void init(pagepool.api.provider.PoolContext pool) throws pagepool.api.provider.ProviderRefusedException {
                initStarted.countDown();
                try {
                    release.await(); // held until queue 0 has shown it still flows
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.init(pool);
            }
        });
        Thread binder = new Thread(() -> bindings.bind("sim0", List.of(1), "slow"), "binder");
        binder.start();
        try {
            assertTrue(initStarted.await(20, java.util.concurrent.TimeUnit.SECONDS));
            long q0 = stat(0, "packets");
            await("queue 0 receives while queue 1's provider sets up its pool", () -> stat(0, "packets") > q0 + 500);
        } finally {
            release.countDown();
            binder.join(20_000);
        }
        await("queue 1 on the slow provider once it is done", () -> queue(1).provider().equals("slow"));
    }

    @Test
    void theMostQueuesADeviceMayHaveShareAFewNapiThreads() throws Exception {
        int queues = SimSettings.MAX_QUEUES; // 1024: its socket reader's tables stay within what tokens can name
        open(SimSettings.builder("sim0").rxQueues(queues).ringSize(64).ratePps(1000).holdMicros(50));
        assertEquals(Math.min(queues, Runtime.getRuntime().availableProcessors()),
                Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("napi-sim0-")).count(),
                "NAPI threads shared as IRQ vectors are");
        await("every queue up", () -> bindings.queues().stream().allMatch(q -> q.state() == QueueInfo.State.OK
                && q.provider().equals("heap")));
        awaitTrafficOnAllQueues(50);
        TestProvider other = add(new TestProvider("other"));
        BindingInfo b = bindings.bind("sim0", List.of(7, 100, 1023), "other");
        assertEquals(BindingInfo.State.APPLIED, b.state());
        for (int q = 0; q < queues; q += 67) {
            assertEquals(QueueInfo.State.OK, bindings.restartQueue("sim0", q).state());
        }
        long[] before = new long[queues];
        for (int q = 0; q < queues; q++) {
            before[q] = stat(q, "packets");
        }
        for (int q = 0; q < queues; q++) {
            int i = q;
            await("traffic on queue " + q, () -> stat(i, "packets") > before[i] + 20);
        }
        device.setCarrier(false);
        device.close();
        assertAccounted();
        device = null;
        await("every pool destroyed", () -> bindings.pools().isEmpty());
        assertEquals(0, other.pagesOut.get());
    }
}

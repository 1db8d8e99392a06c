package pagepool.driver.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pagepool.api.testing.Await.await;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import pagepool.api.PoolInfo;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.testing.TestProvider;

/**
 * A provider that throws under traffic: no NAPI or socket thread dies, the queue falls back to the
 * default provider with the reason shown, the other queues do not drop, and every page and packet
 * is accounted for.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProviderFaultTest extends SimEngineRig {

    /** Sockets read every packet and hold it 20 ms: pools keep growing for a while after a start. */
    private static SimSettings.Builder holding() {
        return sim0().socketFraction(1.0).holdMicros(20_000);
    }

    private long[] nicDropsOfAll() {
        long[] d = new long[4];
        for (int q = 0; q < 4; q++) {
            d[q] = nicDrops(q);
        }
        return d;
    }

    /** Closes the device and checks that the provider got every page back and destroyed every pool it set up. */
    private void closeAndCheckAccounting(TestProvider p) throws InterruptedException {
        device.setCarrier(false);
        device.close();
        assertAccounted();
        await("every pool destroyed", () -> bindings.pools().isEmpty());
        assertEquals(0, p.pagesOut.get(), "every page of " + p.name() + " came back");
        assertEquals(p.initsCompleted.get(), p.destroys.get(), "init and destroy paired");
        device = null;
    }

    @Test
    void anAllocationThatThrowsUnderTrafficMovesTheQueueToTheDefaultAndNoThreadDies() throws Exception {
        open(holding());
        TestProvider bad = add(new TestProvider("bad"));
        awaitTrafficOnAllQueues(2000);
        long[] before = nicDropsOfAll();
        assertEquals(BindingInfo.State.APPLIED, bindings.bind("sim0", List.of(1), "bad").state());

        // The pool keeps growing as sockets hold pages: its next slow-path refill meets the fault.
        bad.failing(TestProvider.Call.ALLOC, () -> new IllegalStateException("slab allocator broken"));

        // The queue moves first, then the engine marks the binding failed: wait for both.
        await("queue 1 falls back and its binding fails", () -> queue(1).provider().equals("heap")
                && bindings.bindings().get(0).state() == BindingInfo.State.FAILED);
        QueueInfo q1 = queue(1);
        assertEquals(QueueInfo.State.UNHEALTHY, q1.state());
        assertEquals("provider 'bad' faulted: allocNetmems threw IllegalStateException: slab allocator broken; it runs"
                + " on 'heap' instead", q1.message());
        BindingInfo b = bindings.bindings().get(0);
        assertTrue(b.message().contains("allocNetmems threw"), b.message());
        long p1 = stat(1, "packets");
        await("queue 1's NAPI thread lives: traffic on heap", () -> stat(1, "packets") > p1 + 1000);
        for (int q : new int[] {0, 2, 3}) {
            assertEquals(before[q], nicDrops(q), "queue " + q + " did not drop");
        }
        assertEquals(0, stat(1, "errors"), "nothing reached the NAPI loop");
        assertTrue(bindings.providers().stream().anyMatch(p -> p.name().equals("bad") && p.faults().alloc() >= 1));
        closeAndCheckAccounting(bad);
    }

    @Test
    void aReleaseThatThrowsNeverStopsTheSocketThreadAndItsPoolStillDrains() throws Exception {
        open(holding());
        TestProvider bad = add(new TestProvider("bad"));
        bindings.bind("sim0", List.of(1), "bad");
        awaitTrafficOnAllQueues(2000);
        int badPool = queue(1).poolId();
        bad.failing(TestProvider.Call.RELEASE, () -> new AssertionError("bookkeeping"));

        // Unbinding closes the pool while sockets hold its pages: each comes back through a release that throws.
        bindings.unbind("sim0", List.of(1));

        assertEquals("heap", queue(1).provider());
        assertEquals(device.queueStats(1).get("pool-id"), (long) queue(1).poolId(), "the pool the queue uses now");
        await("the old pool drains and is destroyed", () -> bindings.pools().stream().noneMatch(p -> p.id() == badPool));
        long[] verified = new long[4];
        for (int q = 0; q < 4; q++) {
            verified[q] = stat(q, "verified");
        }
        for (int q = 0; q < 4; q++) {
            int i = q;
            await("the socket thread still reads queue " + q, () -> stat(i, "verified") > verified[i] + 500);
        }
        assertTrue(bindings.providers().stream().anyMatch(p -> p.name().equals("bad") && p.faults().release() > 0));
        closeAndCheckAccounting(bad);
    }

    @Test
    void anErrorInTheNapiLoopFailsOnlyItsQueueAndARestartRecoversIt() throws Exception {
        open(holding());
        TestProvider bad = add(new TestProvider("bad"));
        awaitTrafficOnAllQueues(2000);
        long[] before = nicDropsOfAll();
        // One page whose memory is gone: the first packet written into it throws in NAPI.
        bad.poison(1);
        assertEquals(BindingInfo.State.APPLIED, bindings.bind("sim0", List.of(2), "bad").state());

        await("queue 2's driver reported the failure and the engine restarted it",
                () -> queue(2).message().startsWith("restarted after its driver reported: NAPI: IllegalStateException"));
        await("queue 2 runs again", () -> queue(2).state() == QueueInfo.State.OK);
        assertEquals("bad", queue(2).provider(), "recovered on the memory it is bound to");
        assertEquals(1, stat(2, "errors"));
        long p2 = stat(2, "packets");
        await("traffic on queue 2 after the restart", () -> stat(2, "packets") > p2 + 1000);
        for (int q : new int[] {0, 1, 3}) {
            assertEquals(before[q], nicDrops(q), "queue " + q + " did not drop");
        }
        await("the failed pool freed (in the background)", () -> bindings.pools().stream().noneMatch(
                p -> p.provider().equals("bad") && p.state() == PoolInfo.State.ACTIVE && p.id() != queue(2).poolId()));
        closeAndCheckAccounting(bad);
    }
}

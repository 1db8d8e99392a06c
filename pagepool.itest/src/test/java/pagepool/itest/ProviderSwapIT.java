package pagepool.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;


import org.junit.After;
import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;

import pagepool.api.PoolInfo;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.queue.NetDevice;

/**
 * Provider swaps in Felix: providers installed and removed as bundles under traffic, bindings
 * from Config Admin, a failed start rolled back, and 200 swaps with every packet and page
 * accounted for. Each test gets a fresh framework.
 */
public class ProviderSwapIT extends PagepoolTestBase {

    private Bundle installTestProviders() throws Exception {
        Bundle b = context.installBundle(Felix.testProviderLocation());
        b.start();
        Felix.await("testmem registered", () -> bindings.providers().stream().anyMatch(p -> p.name().equals("testmem")));
        return b;
    }

    private QueueInfo queue(int i) {
        return bindings.queues().get(i);
    }

    private List<PoolInfo> poolsOf(String provider) {
        return bindings.pools().stream().filter(p -> p.provider().equals(provider)).toList();
    }

    // ---- tests --------------------------------------------------------------------------------

    @Test
    public void secondProviderBoundUnderTrafficRestartsOnlyItsQueue() throws Exception {
        NetDevice dev = startDevice(Map.of());
        installTestProviders();
        // Settled: a window of 500 packets on every queue without a drop (drops before the swap
        // are not the swap's); a window with drops starts a new one.
        long[][] window = {new long[4], new long[4]}; // packets, drops at the window's start
        for (int q = 0; q < 4; q++) {
            window[0][q] = stat(dev, q, "packets");
            window[1][q] = nicDrops(dev, q);
        }
        Felix.await("500 packets on every queue without a drop", () -> {
            boolean settled = true;
            for (int q = 0; q < 4; q++) {
                long p = stat(dev, q, "packets");
                long d = nicDrops(dev, q);
                if (d != window[1][q]) {
                    window[0][q] = p;
                    window[1][q] = d;
                    settled = false;
                } else if (p - window[0][q] < 500) {
                    settled = false;
                }
            }
            return settled;
        });
        long[] packets = new long[4];
        long[] drops = new long[4];
        for (int q = 0; q < 4; q++) {
            packets[q] = stat(dev, q, "packets");
            drops[q] = nicDrops(dev, q);
        }

        BindingInfo b = bindings.bind("sim0", List.of(1), "testmem");

        assertEquals(b.message(), BindingInfo.State.APPLIED, b.state());
        assertEquals("testmem", queue(1).provider());
        assertEquals(1, queue(1).restarts());
        for (int q : new int[] {0, 2, 3}) {
            assertEquals("heap", queue(q).provider());
            assertEquals("queue " + q + " was not restarted", 0, queue(q).restarts());
        }
        for (int q = 0; q < 4; q++) {
            int i = q;
            Felix.await("traffic on queue " + q + " after the swap", () -> stat(dev, i, "packets") > packets[i] + 1000);
            if (q != 1) {
                assertEquals("queue " + q + " dropped during the swap of queue 1: " + dev.queueStats(q), drops[q],
                        nicDrops(dev, q));
            }
        }
        assertEquals(0, stat(dev, 1, "corrupt"));
    }

    @Test
    public void uninstallingAProviderWithPagesHeldMovesQueuesHomeAndFreesAfterTheLastPage() throws Exception {
        // Socket threads read every packet and hold its page for 300 ms.
        NetDevice dev = startDevice(Map.of("socket.fraction", 1.0d, "hold.micros", 300_000L));
        Bundle providers = installTestProviders();
        bindings.bind("sim0", List.of(1, 2), "testmem");
        Felix.await("pages of testmem held by sockets", () -> poolsOf("testmem").stream().mapToLong(PoolInfo::inflight).sum()
                > 1000);

        providers.uninstall();

        assertEquals("heap", queue(1).provider());
        assertEquals("heap", queue(2).provider());
        assertEquals(QueueInfo.State.PENDING, queue(1).state());
        List<PoolInfo> detached = poolsOf("testmem");
        assertTrue("the old pools wait for their pages: " + detached,
                detached.stream().anyMatch(p -> p.state() == PoolInfo.State.DETACHED && p.inflight() > 0));
        Felix.await("the old pools drain and are destroyed", () -> poolsOf("testmem").isEmpty());
        long before = stat(dev, 1, "packets");
        Felix.await("traffic on queue 1 on heap", () -> stat(dev, 1, "packets") > before + 1000);
        assertEquals(0, stat(dev, 1, "corrupt"));
    }

    @Test
    public void bindingFromAFactoryConfigurationFollowsItsUpdatesAndDeletion() throws Exception {
        startDevice(Map.of());
        installTestProviders();
        org.osgi.service.cm.Configuration c = configAdmin.createFactoryConfiguration("pagepool.binding", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("device", "sim0");
        p.put("queues", "2");
        p.put("provider", "testmem");
        c.update(p);
        Felix.await("queue 2 on testmem", () -> queue(2).provider().equals("testmem"));
        assertEquals("config:" + c.getPid(), bindings.bindings().get(0).owner());

        p.put("queues", "0,3");
        c.update(p);
        Felix.await("queues 0 and 3 on testmem", () -> queue(0).provider().equals("testmem")
                && queue(3).provider().equals("testmem"));
        Felix.await("queue 2 back on heap", () -> queue(2).provider().equals("heap"));

        p.put("queues", "one");
        c.update(p);
        Felix.await("a malformed binding is listed as failed", () -> bindings.bindings().size() == 1
                && bindings.bindings().get(0).state() == BindingInfo.State.FAILED);
        assertEquals("queues: 'one' (expected: a list like 1,2 or a range like 0-3 of indexes 0..4095)",
                bindings.bindings().get(0).message());
        Felix.await("and binds nothing", () -> bindings.queues().stream().allMatch(q -> q.provider().equals("heap")));

        p.put("queues", "1");
        c.update(p);
        Felix.await("queue 1 on testmem", () -> queue(1).provider().equals("testmem"));
        c.delete();
        Felix.await("every queue back on heap", () -> bindings.queues().stream().allMatch(q -> q.provider().equals("heap")));
        assertTrue(bindings.bindings().isEmpty());
    }

    @Test
    public void aFailedSwapLeavesTheQueueOnItsMemoryAndItKeepsItsTraffic() throws Exception {
        NetDevice dev = startDevice(Map.of());
        installTestProviders();

        BindingInfo b = bindings.bind("sim0", List.of(0), "farmem");

        assertEquals(BindingInfo.State.FAILED, b.state());
        QueueInfo q0 = queue(0);
        assertEquals(QueueInfo.State.UNHEALTHY, q0.state());
        assertEquals("heap", q0.provider());
        assertTrue(q0.message(), q0.message().contains("48-bit DMA mask"));
        assertTrue(q0.message(), q0.message().startsWith("swapping onto provider 'farmem' failed"));
        long before = stat(dev, 0, "packets");
        Felix.await("traffic on queue 0 after the failed swap", () -> stat(dev, 0, "packets") > before + 1000);
        Felix.await("the never-started pool is gone", () -> poolsOf("farmem").isEmpty());
        assertEquals(0, stat(dev, 0, "corrupt"));
    }

    @Test
    public void twoHundredSwapsUnderTrafficLoseNoPacketAndLeakNoPage() throws Exception {
        NetDevice dev = startDevice(Map.of("rate.pps", 50_000L));
        installTestProviders();

        for (int i = 0; i < 200; i++) {
            BindingInfo b = bindings.bind("sim0", List.of(i % 4), "testmem");
            assertEquals(b.message(), BindingInfo.State.APPLIED, b.state());
            assertTrue(bindings.unbind(b.id()));
        }
        dev.setCarrier(false);
        Felix.await("sockets caught up", () -> {
            for (int q = 0; q < 4; q++) {
                Map<String, Long> s = dev.queueStats(q);
                if (!s.get("verified").equals(s.get("packets"))) {
                    return false;
                }
            }
            return true;
        });
        for (int q = 0; q < 4; q++) {
            Map<String, Long> s = dev.queueStats(q);
            assertEquals("queue " + q + ": " + s, (long) s.get("generated"), s.get("packets") + s.get("drops"));
            assertEquals("queue " + q + ": " + s, 0L, (long) s.get("corrupt"));
            assertEquals("queue " + q + " restarted 100 times", 100, queue(q).restarts());
        }
        // The last unbind's old pool is freed in the background (as page_pool_release_retry).
        Felix.await("no testmem pool active", () -> poolsOf("testmem").stream()
                .allMatch(p -> p.state() != PoolInfo.State.ACTIVE));

        deviceConfig.delete();
        deviceConfig = null;
        Felix.await("every pool destroyed once the device is gone", () -> bindings.pools().isEmpty());
    }
}

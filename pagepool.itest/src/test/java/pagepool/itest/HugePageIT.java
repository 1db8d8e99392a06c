package pagepool.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;


import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;

import pagepool.api.PoolInfo;
import pagepool.api.binding.BindingInfo;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueDebug;

/** provider.hugepage hot-installed under traffic, bound to two queues, then uninstalled with pages in flight. */
public class HugePageIT extends PagepoolTestBase {

    private List<PoolInfo> hugePools() {
        return bindings.pools().stream().filter(p -> p.provider().equals("hugepage")).toList();
    }

    @Test
    public void hugePagesCutIotlbMissesOfTheirQueuesAndLeaveCleanlyUnderTraffic() throws Exception {
        // 32 huge pages = 16,384 4 KiB pages, more than the two bound queues keep out: 10k pps held
        // 300 ms, plus a full socket backlog and the ring, per queue. (16 huge pages were too few
        // once a busy machine let the backlog fill: fallback pages then missed the IOTLB.)
        org.osgi.service.cm.Configuration hugeConfig = configAdmin.getConfiguration("pagepool.provider.hugepage", "?");
        Dictionary<String, Object> h = new Hashtable<>();
        h.put("pages", 32);
        hugeConfig.update(h);
        org.osgi.service.cm.Configuration device = configAdmin.createFactoryConfiguration("pagepool.sim.device", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("name", "sim0");
        p.put("ring.size", 256);
        p.put("rate.pps", 10_000L);
        p.put("socket.fraction", 1.0d);
        p.put("hold.micros", 300_000L); // sockets hold every page for 300 ms
        device.update(p);
        Felix.await("sim0", () -> context.getServiceReference(NetDevice.class) != null);
        ServiceReference<NetDevice> ref = context.getServiceReference(NetDevice.class);
        NetDevice dev = context.getService(ref);
        Felix.await("traffic", () -> stat(dev, 3, "packets") > 2000);

        Bundle huge = context.installBundle(Felix.bundleLocation("provider.hugepage"));
        huge.start();
        Felix.await("32 huge pages mapped", () -> bindings.providers().stream().anyMatch(x -> x.name().equals("hugepage")));
        Felix.await("hugepage registered", () -> bindings.providers().stream().anyMatch(x -> x.name().equals("hugepage")));
        BindingInfo b = bindings.bind("sim0", List.of(1, 2), "hugepage");
        assertEquals(b.message(), BindingInfo.State.APPLIED, b.state());

        long[] lookups = new long[4];
        long[] misses = new long[4];
        long[] packets = new long[4];
        for (int q = 0; q < 4; q++) {
            lookups[q] = stat(dev, q, "iotlb-lookups");
            misses[q] = stat(dev, q, "iotlb-misses");
            packets[q] = stat(dev, q, "packets");
        }
        Felix.await("traffic on every queue", () -> {
            for (int q = 0; q < 4; q++) {
                if (stat(dev, q, "packets") < packets[q] + 3000) {
                    return false;
                }
            }
            return true;
        });
        for (int q = 0; q < 4; q++) {
            double rate = (stat(dev, q, "iotlb-misses") - misses[q]) / (double) (stat(dev, q, "iotlb-lookups") - lookups[q]);
            if (q == 1 || q == 2) {
                assertTrue("huge-page queue " + q + " miss rate " + rate, rate < 0.01);
            } else {
                assertTrue("heap queue " + q + " miss rate " + rate, rate > 0.9);
            }
            assertEquals(0L, stat(dev, q, "corrupt"));
        }

        // A page held outside the queue (netdevsim's pp_hold) is in flight for certain: the
        // sockets' pages may all have come back on a machine busy enough to starve NAPI.
        QueueDebug debug = (QueueDebug) dev;
        assertTrue("a huge page held", debug.holdPage(1));
        huge.uninstall();

        assertTrue(bindings.queues().stream().allMatch(q -> q.provider().equals("heap")));
        List<PoolInfo> detached = hugePools();
        assertTrue("pages in flight keep the huge-page pools detached: " + detached,
                detached.stream().anyMatch(x -> x.state() == PoolInfo.State.DETACHED && x.inflight() > 0));
        assertEquals(1, debug.releaseHeldPages(1));
        Felix.await("huge-page pools drained and destroyed", () -> hugePools().isEmpty());
        long after = stat(dev, 1, "packets");
        Felix.await("queue 1 flows on heap", () -> stat(dev, 1, "packets") > after + 1000);
        assertEquals(0L, stat(dev, 1, "corrupt"));
        device.delete();
        Felix.await("every pool destroyed", () -> bindings.pools().isEmpty());
    }
}

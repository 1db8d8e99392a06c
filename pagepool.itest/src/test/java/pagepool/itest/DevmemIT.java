package pagepool.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import javax.inject.Inject;

import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;

import pagepool.api.PagePoolFactory;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.devmem.DevmemBindingInfo;
import pagepool.api.devmem.DmaBufInfo;
import pagepool.api.devmem.DmaBufs;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.queue.NetDevice;

/** Device memory bound to two of four header-split queues under traffic, unbound, and removed with tokens out. */
public class DevmemIT extends PagepoolTestBase {

    @Inject
    private PagePoolFactory factory;

    private List<PoolInfo> devmemPools() {
        return bindings.pools().stream().filter(p -> p.provider().startsWith("devmem-")).toList();
    }

    @Test
    public void deviceMemoryOnTwoQueuesUnderTrafficThenUnboundThenRemovedWithTokensOut() throws Exception {
        org.osgi.service.cm.Configuration device = configAdmin.createFactoryConfiguration("pagepool.sim.device", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("name", "sim0");
        p.put("ring.size", 256);
        p.put("rate.pps", 20_000L);
        p.put("header.split", true);
        p.put("hold.micros", 300_000L); // sockets hold frags (tokens, for device memory) for 300 ms
        device.update(p);
        Felix.await("sim0", () -> context.getServiceReference(NetDevice.class) != null);
        NetDevice dev = context.getService(context.getServiceReference(NetDevice.class));
        Felix.await("traffic", () -> stat(dev, 3, "packets") > 2000);

        Bundle devmem = context.installBundle(Felix.bundleLocation("provider.devmem"));
        devmem.start();
        Felix.await("DmaBufs", () -> context.getServiceReference(DmaBufs.class) != null);
        ServiceReference<DmaBufs> ref = context.getServiceReference(DmaBufs.class);
        DmaBufs bufs = context.getService(ref);

        // 2048 chunks, while sockets hold ~3000 frags per queue: applications exhaust the buffer.
        DmaBufInfo buf = bufs.create(8L << 20);
        long[] dropsBefore = {nicDrops(dev, 0), 0, 0, nicDrops(dev, 3)};
        DevmemBindingInfo b = bufs.bind(buf.id(), "sim0", List.of(1, 2));
        assertEquals(2048, b.chunks());
        assertEquals(b.provider(), bindings.queues().get(1).provider());
        assertEquals(b.provider(), bindings.queues().get(2).provider());
        assertEquals("heap", bindings.queues().get(0).provider());
        assertEquals("buffer " + buf.id() + " is already bound by binding " + b.id()
                + " (expected: an unbound buffer; unbind it first)", assertThrows(IllegalArgumentException.class,
                        () -> bufs.bind(buf.id(), "sim0", List.of(3))).getMessage());
        assertEquals("buffer: 99 is unknown (expected: one of [" + buf.id() + "])",
                assertThrows(IllegalArgumentException.class, () -> bufs.bind(99, "sim0", List.of(3))).getMessage());
        DmaBufInfo spare = bufs.create(1L << 20);
        assertEquals("queue sim0/1 is already bound to provider '" + b.provider() + "' by binding "
                + bindings.bindings().get(0).id() + " (" + bindings.bindings().get(0).owner() + ", dma-buf binding "
                + b.id() + " (pp:dmabuf_unbind " + b.id() + ")) (expected: unbind it first)",
                assertThrows(IllegalArgumentException.class, () -> bufs.bind(spare.id(), "sim0", List.of(1)))
                        .getMessage());
        assertEquals("queue: 7 (expected: 0..3 on sim0)", assertThrows(IllegalArgumentException.class,
                () -> bufs.bind(spare.id(), "sim0", List.of(7))).getMessage());
        assertEquals("a failed bind leaves nothing behind", 1, bufs.bindings().size());
        assertTrue(bufs.destroy(spare.id()));

        long before1 = stat(dev, 1, "verified");
        Felix.await("payload verified by the device on queue 1", () -> stat(dev, 1, "verified") > before1 + 2000);
        assertEquals(0L, stat(dev, 1, "corrupt"));
        Felix.await("applications holding tokens", () -> stat(dev, 1, "tokens-out") > 0);
        assertTrue("frags reach applications as (buffer, offset, size, token)", stat(dev, 1, "devmem-frags") > 0);
        Felix.await("the buffer runs out: queue 1 drops for lack of buffers",
                () -> stat(dev, 1, "drops-no-buffer") > 0);
        long exhaustedAt = stat(dev, 1, "packets");
        Felix.await("and recovers as tokens come back", () -> stat(dev, 1, "packets") > exhaustedAt + 2000);
        assertEquals("the other queues were undisturbed", dropsBefore[0], nicDrops(dev, 0));
        assertEquals(dropsBefore[3], nicDrops(dev, 3));
        // Headers stay in host memory: the header pools of the bound queues are on heap.
        assertTrue(bindings.pools().stream().anyMatch(x -> x.queue() != null && x.queue().index() == 1
                && x.provider().equals("heap") && x.state() == PoolInfo.State.ACTIVE));


        assertTrue(bufs.unbind(b.id()));
        assertEquals("heap", bindings.queues().get(1).provider());
        long after = stat(dev, 1, "packets");
        Felix.await("queue 1 flows on heap", () -> stat(dev, 1, "packets") > after + 1000);
        Felix.await("the unbound binding drained", () -> bufs.bindings().isEmpty());

        // The bundle that made a binding lets go of the service: its bindings and buffers go.
        // The refused binds above took no id: this binding is the one after b.
        assertEquals(b.id() + 1, bufs.bind(buf.id(), "sim0", List.of(3)).id());
        assertTrue(bindings.queues().get(3).provider().startsWith("devmem-"));
        context.ungetService(ref);
        Felix.await("queue 3 back on heap once its binding's owner is gone",
                () -> bindings.queues().get(3).provider().equals("heap"));

        DmaBufs fresh = context.getService(ref);
        assertTrue("the owner's buffer went with it", fresh.buffers().stream().noneMatch(x -> x.id() == buf.id()));
        DevmemBindingInfo again = fresh.bind(fresh.create(64L << 20).id(), "sim0", List.of(2));

        // Device memory is the driver's and the binding's alone: no other bundle makes a pool on the
        // queue, binds more queues to the binding's provider, or removes its binding.
        long driver = context.getServiceReference(NetDevice.class).getBundle().getBundleId();
        assertEquals("queue sim0/2 belongs to the driver that registered sim0 (bundle " + driver + "), not to bundle "
                + context.getBundle().getBundleId() + " (expected: pools for a queue are created by its driver)",
                assertThrows(IllegalArgumentException.class, () -> factory.create(PoolParams.builder()
                        .flags(PoolParams.DMA_MAP | PoolParams.DMA_SYNC_DEV | PoolParams.ALLOW_UNREADABLE_NETMEM)
                        .maxLen(4096).queue("sim0", 2).build())).getMessage());
        String devmemProvider = bindings.queues().get(2).provider();

        // A co-resident bundle borrows the binding's provider name, public and ranked higher, then
        // private: the binding holds the devmem bundle's service object, so neither gets a pool.
        int pool2 = bindings.queues().get(2).poolId();
        ImpostorProvider loud = new ImpostorProvider(devmemProvider);
        ImpostorProvider quiet = new ImpostorProvider(devmemProvider);
        org.osgi.framework.ServiceRegistration<MemoryProvider> r1 = context.registerService(MemoryProvider.class, loud,
                new Hashtable<>(Map.of(MemoryProvider.NAME, devmemProvider, org.osgi.framework.Constants.SERVICE_RANKING,
                        1000)));
        org.osgi.framework.ServiceRegistration<MemoryProvider> r2 = context.registerService(MemoryProvider.class, quiet,
                new Hashtable<>(Map.of(MemoryProvider.NAME, devmemProvider, MemoryProvider.PRIVATE, true)));
        bindings.restartQueue("sim0", 2);
        assertEquals(devmemProvider, bindings.queues().get(2).provider());
        assertTrue("restarted onto the binding's own provider", bindings.queues().get(2).poolId() != pool2);
        assertEquals("the impostors got no pool", 0, loud.inits.get() + quiet.inits.get());
        long frags = stat(dev, 2, "devmem-frags");
        Felix.await("device memory still flows on queue 2", () -> stat(dev, 2, "devmem-frags") > frags + 100);
        r1.unregister();
        r2.unregister();
        String refused = assertThrows(IllegalArgumentException.class,
                () -> bindings.bind("sim0", List.of(0), devmemProvider)).getMessage();
        assertTrue(refused, refused.startsWith("provider '" + devmemProvider + "' is private to the bundle that"
                + " registered it"));
        refused = assertThrows(IllegalArgumentException.class, () -> bindings.unbind("sim0", List.of(2))).getMessage();
        assertTrue(refused, refused.startsWith("queue sim0/2 is bound by bundle:provider.devmem#")
                && refused.contains("dma-buf binding " + again.id() + " (pp:dmabuf_unbind " + again.id() + ")"));
        assertEquals("refusals change nothing", devmemProvider, bindings.queues().get(2).provider());

        Felix.await("tokens out on queue 2", () -> stat(dev, 2, "tokens-out") > 100);

        devmem.uninstall();

        assertEquals("heap", bindings.queues().get(2).provider());
        Felix.await("devmem pools drained and destroyed after the tokens came back", () -> devmemPools().isEmpty());
        assertEquals(0L, stat(dev, 2, "tokens-out"));
        assertEquals(0L, stat(dev, 2, "corrupt"));
        long q2 = stat(dev, 2, "packets");
        Felix.await("queue 2 flows on heap", () -> stat(dev, 2, "packets") > q2 + 1000);
        assertTrue(again.id() > 0);
        device.delete();
        Felix.await("every pool destroyed", () -> bindings.pools().isEmpty());
    }
}

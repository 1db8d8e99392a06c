package pagepool.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;

import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.config.ConfigProblem;
import pagepool.api.datagram.DatagramConsumer;
import pagepool.api.datagram.DatagramSender;
import pagepool.api.queue.NetDevice;

/**
 * driver.uring in Felix: real UDP datagrams over loopback into 4 queues, two of them moved to
 * hot-installed huge pages and back under traffic, then the driver uninstalled under traffic.
 * Through io_uring and through the recvmmsg fallback.
 */
public class UringIT extends PagepoolTestBase {

    @Test
    public void ioUringQueuesSwapToHugePagesUnderRealTrafficAndLeaveCleanly() throws Exception {
        scenario(true);
    }

    @Test
    public void recvmmsgQueuesSwapToHugePagesUnderRealTrafficAndLeaveCleanly() throws Exception {
        scenario(false);
    }

    @Test
    public void datagramsGoToTheBestRankedConsumerOfTheDeviceAndBackToVerificationWithoutOne() throws Exception {
        startDriver(props("rx.queues", 1));
        NetDevice dev = udp0();
        InetSocketAddress target = new InetSocketAddress("127.0.0.1", port(dev));
        DatagramSender sender = context.getService(context.getServiceReference(DatagramSender.class));

        AtomicLong low = new AtomicLong();
        AtomicLong high = new AtomicLong();
        AtomicLong other = new AtomicLong();
        var lowReg = context.registerService(DatagramConsumer.class, d -> low.incrementAndGet(),
                props(DatagramConsumer.DEVICE, "udp0", org.osgi.framework.Constants.SERVICE_RANKING, 1));
        var otherReg = context.registerService(DatagramConsumer.class, d -> other.incrementAndGet(),
                props(DatagramConsumer.DEVICE, "udp9", org.osgi.framework.Constants.SERVICE_RANKING, 100));
        assertEquals(1000, sender.send(target, 200, 1000, 0).sent());
        Felix.await("the device's consumer got them", () -> low.get() + stat(dev, 0, "drops") == 1000);
        assertEquals("a consumer of another device gets nothing", 0, other.get());

        // A better-ranked consumer is bound before the old one goes (DS may do both in any order).
        var highReg = context.registerService(DatagramConsumer.class, d -> high.incrementAndGet(),
                props(DatagramConsumer.DEVICE, "udp0", org.osgi.framework.Constants.SERVICE_RANKING, 10));
        long lowBefore = low.get();
        assertEquals(1000, sender.send(target, 200, 1000, 0).sent());
        Felix.await("the best-ranked consumer got them", () -> high.get() + stat(dev, 0, "drops") >= 1000
                && stat(dev, 0, "packets") + stat(dev, 0, "drops") == 2000);
        assertEquals(lowBefore, low.get());
        highReg.unregister();
        lowReg.unregister();
        otherReg.unregister();

        long verified = stat(dev, 0, "verified");
        assertEquals(1000, sender.send(target, 200, 1000, 0).sent());
        Felix.await("no consumer: the device verifies", () -> stat(dev, 0, "verified") + stat(dev, 0, "drops")
                >= verified + 1000 && stat(dev, 0, "packets") + stat(dev, 0, "drops") == 3000);
        assertEquals(stat(dev, 0, "packets") - stat(dev, 0, "verified"), stat(dev, 0, "delivered"));
        assertEquals(0L, stat(dev, 0, "consumer-errors"));
    }

    /**
     * Hot-installs driver.uring with a device udp0 on a port the kernel picks, and waits until
     * each of its queues runs on heap.
     */
    private Bundle startDriver(Dictionary<String, Object> settings) throws Exception {
        Bundle driver = context.installBundle(Felix.bundleLocation("driver.uring"));
        driver.start();
        deviceConfig = configAdmin.createFactoryConfiguration("pagepool.uring.device", "?");
        settings.put("name", "udp0");
        if (settings.get("port") == null) {
            settings.put("port", 0);
        }
        deviceConfig.update(settings);
        Felix.await("udp0 registered", () -> udp0() != null);
        int queues = udp0().rxQueueCount();
        Felix.await(queues + " queues on heap", () -> bindings.queues().stream().filter(q -> q.queue().device()
                .equals("udp0")).filter(q -> q.provider().equals("heap") && q.state() == QueueInfo.State.OK)
                .count() == queues);
        return driver;
    }

    /** The port the device receives on, from its details ("address=127.0.0.1:port"). */
    private static int port(NetDevice dev) {
        String address = (String) dev.details().get("address");
        return Integer.parseInt(address.substring(address.indexOf(':') + 1));
    }

    private static Dictionary<String, Object> props(Object... kv) {
        Dictionary<String, Object> d = new Hashtable<>();
        for (int i = 0; i < kv.length; i += 2) {
            d.put((String) kv[i], kv[i + 1]);
        }
        return d;
    }

    private NetDevice udp0() {
        try {
            var refs = context.getServiceReferences(NetDevice.class, "(" + NetDevice.NAME + "=udp0)");
            return refs.isEmpty() ? null : context.getService(refs.iterator().next());
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static long total(NetDevice dev, String counter) {
        long n = 0;
        for (int q = 0; q < dev.rxQueueCount(); q++) {
            n += stat(dev, q, counter);
        }
        return n;
    }

    /**
     * Another bundle's device that hangs when asked for its details (a broken or hostile driver)
     * holds up no configuration of this driver: the port check asks only the driver's own devices.
     * Asking it had blocked Config Admin's thread, and every configuration update after it.
     */
    @Test
    public void aForeignDeviceHungInItsDetailsHoldsUpNoConfiguration() throws Exception {
        java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
        NetDevice hung = (NetDevice) java.lang.reflect.Proxy.newProxyInstance(NetDevice.class.getClassLoader(),
                new Class<?>[] {NetDevice.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "name", "toString" -> "hung0";
                    case "details" -> {
                        answer.await();
                        yield java.util.Map.of();
                    }
                    case "rxQueueCount" -> 1;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> m.getReturnType() == boolean.class ? false : null;
                });
        var reg = context.registerService(NetDevice.class, hung, props(NetDevice.NAME, "hung0"));
        int port;
        try (DatagramSocket free = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        try {
            // A fixed port: the check runs (port 0 skips it).
            startDriver(props("rx.queues", 1, "port", port));
            assertEquals(1, udp0().rxQueueCount());
        } finally {
            answer.countDown();
            reg.unregister();
        }
    }

    private void scenario(boolean ioUring) throws Exception {
        Bundle driver = startDriver(props("rx.queues", 4, "ring.size", 256, "io.uring", ioUring));
        NetDevice dev = udp0();
        // Skipped with the reason where io_uring is off (the device fell back to recvmmsg).
        org.junit.Assume.assumeTrue("io_uring is unavailable here: " + dev.details().get("path"),
                !ioUring || "io_uring".equals(dev.details().get("path")));
        assertEquals(ioUring ? "io_uring" : "recvmmsg (forced by io_uring=false)", dev.details().get("path"));
        String address = (String) dev.details().get("address");
        int port = port(dev);
        if (ioUring) {
            // A second device on the same port is refused: the kernel would split the traffic unseen.
            org.osgi.service.cm.Configuration second = configAdmin.createFactoryConfiguration("pagepool.uring.device", "?");
            Dictionary<String, Object> q = new Hashtable<>();
            q.put("name", "udp1");
            q.put("port", port);
            second.update(q);
            Felix.await("udp1 refused", () -> context.getServiceReference(ConfigProblem.class) != null);
            ConfigProblem refused = context.getService(context.getServiceReference(ConfigProblem.class));
            assertEquals("device udp1", refused.subject());
            assertEquals("port: " + port + " (expected: a port no other device receives on: udp0 receives on "
                    + address + "); no device is created", refused.message());
            second.delete();
            Felix.await("the refusal withdrawn", () -> context.getServiceReference(ConfigProblem.class) == null);
        }
        InetSocketAddress target = new InetSocketAddress("127.0.0.1", port);
        ServiceReference<DatagramSender> senderRef = context.getServiceReference(DatagramSender.class);
        DatagramSender sender = context.getService(senderRef);

        // Phase 1: 150,000 datagrams at 50k/s while queues 1 and 2 move to huge pages and back.
        AtomicLong sent = new AtomicLong(-1);
        AtomicReference<Throwable> sendFailed = new AtomicReference<>();
        Thread traffic = new Thread(() -> {
            try {
                sent.set(sender.send(target, 512, 150_000, 50_000).sent());
            } catch (Throwable t) {
                sendFailed.set(t);
            }
        });
        traffic.start();
        Felix.await("traffic on every queue", () -> {
            for (int q = 0; q < 4; q++) {
                if (stat(dev, q, "packets") < 200) {
                    return false;
                }
            }
            return true;
        });
        org.osgi.service.cm.Configuration hugeConfig = configAdmin.getConfiguration("pagepool.provider.hugepage", "?");
        Dictionary<String, Object> h = new Hashtable<>();
        h.put("pages", 16);
        hugeConfig.update(h);
        Bundle huge = context.installBundle(Felix.bundleLocation("provider.hugepage"));
        huge.start();
        Felix.await("hugepage registered", () -> bindings.providers().stream().anyMatch(x -> x.name().equals("hugepage")));
        BindingInfo b = bindings.bind("udp0", List.of(1, 2), "hugepage");
        assertEquals(b.message(), BindingInfo.State.APPLIED, b.state());
        assertEquals(List.of("heap", "hugepage", "hugepage", "heap"), providers());
        long[] before = {stat(dev, 1, "packets"), stat(dev, 2, "packets")};
        Felix.await("queues 1 and 2 receive into huge pages", () -> stat(dev, 1, "packets") > before[0] + 500
                && stat(dev, 2, "packets") > before[1] + 500);
        bindings.unbind("udp0", List.of(1, 2));
        assertEquals(List.of("heap", "heap", "heap", "heap"), providers());
        traffic.join(60_000);
        assertNull("the sender: " + sendFailed.get(), sendFailed.get());
        Felix.await("sent = received + dropped", () -> total(dev, "packets") + total(dev, "drops") == sent.get());
        assertEquals(0L, total(dev, "corrupt"));
        assertEquals(total(dev, "packets"), total(dev, "verified"));
        assertEquals(0L, total(dev, "errors"));
        Felix.await("huge-page pools drained and destroyed", () -> bindings.pools().stream()
                .noneMatch(x -> x.provider().equals("hugepage")));

        // Phase 2: the driver leaves under traffic: sockets closed, every pool destroyed.
        Thread more = new Thread(() -> sender.send(target, 512, 100_000, 50_000));
        more.start();
        long now = total(dev, "packets");
        Felix.await("traffic again", () -> total(dev, "packets") > now + 1000);
        driver.uninstall();
        assertNull("udp0 is gone", udp0());
        Felix.await("every pool destroyed", () -> bindings.pools().isEmpty());
        try (DatagramSocket s = new DatagramSocket(port, InetAddress.getLoopbackAddress())) {
            assertTrue("the port is free again: every socket closed", s.isBound());
        }
        more.join(60_000);
        huge.uninstall();
        hugeConfig.delete();
    }

    private List<String> providers() {
        return bindings.queues().stream().filter(q -> q.queue().device().equals("udp0"))
                .sorted(java.util.Comparator.comparingInt(q -> q.queue().index())).map(QueueInfo::provider).toList();
    }
}

package pagepool.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.util.List;

import org.junit.jupiter.api.Test;

import pagepool.api.PagePoolFactory;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueDebug;
import pagepool.api.queue.QueueMgmtOps;
import pagepool.driver.sim.SimDevice;
import pagepool.driver.sim.SimSettings;
import pagepool.driver.uring.UdpSender;
import pagepool.driver.uring.UringDevice;
import pagepool.driver.uring.UringSettings;
import pagepool.driver.xdp.XdpDevice;
import pagepool.driver.xdp.XdpFrameSource;
import pagepool.driver.xdp.XdpSettings;

/** Our drivers keep the driver promises, on the engine with the kit's memory. */
class DriverConformanceTest {

    @Test
    void theSimulatedNicKeepsEveryPromise() {
        ConformanceReport r = DriverConformance.check(new DriverConformance.Subject() {
            @Override
            public NetDevice open(PagePoolFactory pools) {
                return new SimDevice(SimSettings.builder("simtck").rxQueues(2).ringSize(256).ratePps(50_000).build(),
                        pools).open();
            }
        });
        System.out.println(r);
        assertTrue(r.passed(), r::toString);
        assertEquals(ConformanceReport.Verdict.SKIP, r.result("accounting").verdict(), "it makes its own traffic");
    }

    @Test
    void theUringDriverKeepsEveryPromise() {
        ConformanceReport r = DriverConformance.check(new DriverConformance.Subject() {
            @Override
            public NetDevice open(PagePoolFactory pools) {
                return new UringDevice(UringSettings.builder("udptck").rxQueues(2).ringSize(256)
                        .rcvbufBytes(32 << 20).build(), pools);
            }

            @Override
            public long send(NetDevice d, long count) {
                return new UdpSender().send(new InetSocketAddress("127.0.0.1", ((UringDevice) d).port()), 256, count, 0)
                        .sent();
            }
        });
        System.out.println(r);
        assertTrue(r.passed(), r::toString);
        assertEquals(List.of(), r.failed());
    }

    /** A driver whose memFree forgets the memory: the kit names the promises that breaks. */
    @Test
    void aDriverThatLeaksFreedMemoryFailsMemAllocFree() {
        ConformanceReport r = DriverConformance.check(new DriverConformance.Subject() {
            @Override
            public NetDevice open(PagePoolFactory pools) {
                UringDevice real = new UringDevice(UringSettings.builder("leaky").rxQueues(1).ringSize(64).build(),
                        pools);
                QueueMgmtOps ops = (QueueMgmtOps) Proxy.newProxyInstance(getClass().getClassLoader(),
                        new Class<?>[] {QueueMgmtOps.class}, (proxy, m, args) -> m.getName().equals("memFree") ? null
                                : invoke(m, real.queueOps(), args));
                return (NetDevice) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {NetDevice.class,
                    QueueDebug.class, AutoCloseable.class}, (proxy, m, args) -> m.getName().equals("queueOps") ? ops
                            : invoke(m, real, args));
            }
        });
        System.out.println(r);
        assertTrue(r.failed().contains("mem-alloc-free"), r::toString);
        assertTrue(r.result("mem-alloc-free").detail().startsWith("after memFree the pool"), r::toString);
    }

    private static Object invoke(java.lang.reflect.Method m, Object target, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** On a veth pair (root only): frames from the kernel's own source, sent from CPU 0. */
    @Test
    void theXdpDriverKeepsEveryPromiseButTheHitlessSwapItDoesNotClaim() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "not root: a veth pair, XDP and AF_XDP need CAP_NET_ADMIN and CAP_BPF");
        String rx = "pptck" + ProcessHandle.current().pid() % 100000 + "r";
        String tx = "pptck" + ProcessHandle.current().pid() % 100000 + "s";
        ip("link", "del", rx);
        org.junit.jupiter.api.Assumptions.assumeTrue(ip("link", "add", rx, "numrxqueues", "2", "numtxqueues", "2", "type",
                "veth", "peer", "name", tx, "numrxqueues", "2", "numtxqueues", "2") == 0, "no veth pair here");
        ip("link", "set", rx, "up");
        ip("link", "set", tx, "up");
        XdpFrameSource opened;
        try {
            opened = new XdpFrameSource(tx);
        } catch (RuntimeException e) {
            ip("link", "del", rx);
            org.junit.jupiter.api.Assumptions.abort("no BPF here: " + e.getMessage());
            return;
        }
        try (XdpFrameSource source = opened) {
            ConformanceReport r = DriverConformance.check(new DriverConformance.Subject() {
                @Override
                public NetDevice open(PagePoolFactory pools) {
                    return new XdpDevice(XdpSettings.builder("xdptck").ifname(rx).rxQueues(2).ringSize(1024)
                            .umemFrames(2048).build(), pools);
                }

                @Override
                public long send(NetDevice d, long count) {
                    source.send(XdpFrameSource.mac(rx), 0x0a000001, 0x0a000002, 40000, 9000, 64, count, 0);
                    return count;
                }

                @Override
                public long missed(NetDevice d) {
                    return ((XdpDevice) d).missed();
                }
            });
            System.out.println(r);
            assertTrue(r.passed(), r::toString);
            assertEquals(ConformanceReport.Verdict.SKIP, r.result("swap").verdict(), "no make-before-break on AF_XDP");
        } finally {
            ip("link", "del", rx);
        }
    }

    private static int ip(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }
}

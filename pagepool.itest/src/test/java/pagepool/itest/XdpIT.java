package pagepool.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.bundle;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Assume;
import org.junit.Before;
import org.junit.Test;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.OptionUtils;
import org.osgi.framework.Bundle;

import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.config.ConfigProblem;
import pagepool.api.queue.NetDevice;
import pagepool.tck.ConformanceReport;
import pagepool.tck.DriverBundleConformance;

/**
 * driver.xdp in Felix on a veth pair whose sending end lives in a network namespace of its own
 * (made and removed by the test): frames from the kernel's own source on every queue, the two
 * queues moved to a hot-installed huge-page provider and back under traffic with every frame
 * accounted, then the driver uninstalled under traffic, leaving no XDP program and no pool; and
 * the conformance kit's driver promises on the bundle. Skipped, with the reason, when not root.
 */
public class XdpIT extends PagepoolTestBase {

    @Override
    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return OptionUtils.combine(Felix.withPagepool(), bundle(Felix.bundleLocation("pagepool.tck")));
    }

    private String ns;
    private String rx;
    private String tx;

    @Before
    public void pair() throws Exception {
        Assume.assumeTrue("not root: a network namespace, XDP and AF_XDP need CAP_NET_ADMIN and CAP_BPF",
                "root".equals(System.getProperty("user.name")));
        String tag = String.valueOf(ProcessHandle.current().pid() % 100000);
        ns = "ppxit" + tag;
        rx = "ppxir" + tag;
        tx = "ppxis" + tag;
        run(false, "ip", "netns", "del", ns);
        try {
            run(true, "ip", "netns", "add", ns);
            run(true, "ip", "link", "add", rx, "numrxqueues", "2", "numtxqueues", "2", "type", "veth", "peer", "name",
                    tx, "netns", ns, "numrxqueues", "2", "numtxqueues", "2");
        } catch (IOException e) {
            Assume.assumeNoException("no network namespace or veth pair here", e);
        }
        run(true, "ip", "link", "set", rx, "up");
        run(true, "ip", "netns", "exec", ns, "ip", "link", "set", tx, "up");
    }

    @After
    public void removePair() throws Exception {
        if (ns != null) {
            run(false, "ip", "netns", "del", ns); // takes the pair with it
            run(false, "ip", "link", "del", rx);
        }
    }

    @Test
    public void queuesMoveToHugePagesAndBackUnderRealFramesAndTheDriverLeavesCleanly() throws Exception {
        Bundle driver = context.installBundle(Felix.bundleLocation("driver.xdp"));
        driver.start();
        deviceConfig = configAdmin.createFactoryConfiguration("pagepool.xdp.device", "?");
        deviceConfig.update(props("name", "xdp0", "interface", rx, "rx.queues", 2, "ring.size", 2048,
                "umem.frames", 4096));
        Felix.await("xdp0 registered or refused", () -> xdp0() != null || !problem().isEmpty());
        Assume.assumeTrue("the kernel refuses XDP here: " + problem(), !problem().contains("EPERM"));
        Felix.await("2 queues on heap", () -> queues("heap") == 2);
        NetDevice dev = xdp0();
        assertTrue(String.valueOf(dev.details()), String.valueOf(dev.details().get("zero-copy")).startsWith("off"));
        assertTrue("the program is attached: " + link(), link().contains("xdp"));

        // Phase 1: both queues under traffic move to huge pages and back; every frame is accounted.
        Process traffic = source(3_000_000);
        Felix.await("traffic on both queues", () -> stat(dev, 0, "packets") > 1000 && stat(dev, 1, "packets") > 1000);
        org.osgi.service.cm.Configuration hugeConfig = configAdmin.getConfiguration("pagepool.provider.hugepage", "?");
        hugeConfig.update(props("pages", 20, "hugetlb", false));
        Bundle huge = context.installBundle(Felix.bundleLocation("provider.hugepage"));
        huge.start();
        Felix.await("hugepage registered", () -> bindings.providers().stream()
                .anyMatch(x -> x.name().equals("hugepage")));
        BindingInfo b = bindings.bind("xdp0", List.of(0, 1), "hugepage");
        assertEquals(b.message(), BindingInfo.State.APPLIED, b.state());
        Felix.await("both queues on huge pages", () -> queues("hugepage") == 2);
        long[] before = {stat(dev, 0, "packets"), stat(dev, 1, "packets")};
        Felix.await("frames land in huge pages", () -> stat(dev, 0, "packets") > before[0] + 1000
                && stat(dev, 1, "packets") > before[1] + 1000);
        bindings.unbind("xdp0", List.of(0, 1));
        Felix.await("both queues back on heap", () -> queues("heap") == 2);
        long sent = sent(traffic);
        Felix.await("sent = received + dropped", () -> total(dev, "packets") + total(dev, "drops") + missed(dev)
                == sent);
        assertEquals(0L, total(dev, "corrupt"));
        assertEquals(0L, total(dev, "malformed"));
        assertEquals(total(dev, "packets"), total(dev, "verified"));
        assertEquals(0L, total(dev, "errors"));
        assertEquals(4L, total(dev, "restarts"));
        Felix.await("huge-page pools drained and destroyed", () -> bindings.pools().stream()
                .noneMatch(x -> x.provider().equals("hugepage")));

        // A second device on the same interface is refused in one line.
        org.osgi.service.cm.Configuration second = configAdmin.createFactoryConfiguration("pagepool.xdp.device", "?");
        second.update(props("name", "xdp1", "interface", rx));
        Felix.await("xdp1 refused", () -> context.getServiceReference(ConfigProblem.class) != null);
        ConfigProblem refused = context.getService(context.getServiceReference(ConfigProblem.class));
        assertEquals("interface: " + rx + " (expected: an interface no other device receives from: xdp0 does); no"
                + " device is created", refused.message());
        second.delete();
        Felix.await("the refusal withdrawn", () -> context.getServiceReference(ConfigProblem.class) == null);

        // Phase 2: the driver leaves under traffic: the program detached, every pool destroyed.
        Process more = source(3_000_000);
        long now = total(dev, "packets");
        Felix.await("traffic again", () -> total(dev, "packets") > now + 1000);
        driver.uninstall();
        assertNull("xdp0 is gone", xdp0());
        assertFalse("no XDP program left on " + rx + ": " + link(), link().contains("prog/xdp"));
        Felix.await("every pool destroyed", () -> bindings.pools().isEmpty());
        sent(more);
        huge.uninstall();
        hugeConfig.delete();
    }

    /**
     * The driver kit inside Felix, as a vendor runs it on a driver bundle: each promise on a device
     * the kit configures on the veth pair, frames from the kernel's source in the other namespace,
     * accounted with the frames the interface missed. AF_XDP claims no make-before-break swap.
     */
    @Test
    public void theXdpBundleKeepsEveryDriverPromiseUnderRealFrames() throws Exception {
        Bundle driver = context.installBundle(Felix.bundleLocation("driver.xdp"));
        driver.start();
        ConformanceReport r = DriverBundleConformance.check(context, driver, new DriverBundleConformance.Subject() {
            @Override
            public String factoryPid() {
                return "pagepool.xdp.device";
            }

            @Override
            public java.util.Map<String, Object> configuration() {
                return java.util.Map.of("name", "xdptck", "interface", rx, "rx.queues", 2, "ring.size", 1024,
                        "umem.frames", 2048);
            }

            @Override
            public long send(NetDevice device, long count) throws Exception {
                return sent(source(Math.max(1, count / 2))); // from two CPUs
            }

            @Override
            public long missed(NetDevice device) {
                return XdpIT.missed(device);
            }
        });
        System.out.println(r);
        Assume.assumeFalse("the kernel refuses XDP here: " + r.result("device").detail(),
                r.result("device").detail().contains("EPERM"));
        assertTrue(r.toString(), r.passed());
        for (String kept : List.of("device", "starts", "restart-onto-other-memory", "link-down-up", "page-hold",
                "reset-modes", "accounting", "counters-monotonic", "close")) {
            assertEquals(r.toString(), ConformanceReport.Verdict.PASS, r.result(kept).verdict());
        }
        driver.uninstall();
    }

    @Test
    public void badSettingsAreRefusedInOneLineEach() throws Exception {
        Bundle driver = context.installBundle(Felix.bundleLocation("driver.xdp"));
        driver.start();
        deviceConfig = configAdmin.createFactoryConfiguration("pagepool.xdp.device", "?");
        deviceConfig.update(props("name", "xdp0", "interface", "ppnone0"));
        Felix.await("refused", () -> context.getServiceReference(ConfigProblem.class) != null);
        ConfigProblem p = context.getService(context.getServiceReference(ConfigProblem.class));
        assertEquals("the device cannot be built with these settings: interface: 'ppnone0' (expected: an interface"
                + " of this host's network namespace; ip link lists them); no device is created", p.message());
        deviceConfig.update(props("name", "xdp0", "interface", rx, "rx.queues", 3));
        Felix.await("refused again", () -> problem().contains("rx.queues"));
        assertEquals("the device cannot be built with these settings: rx.queues: 3 (expected: at most 2, the RX"
                + " queues " + rx + " has); no device is created", problem());
        deviceConfig.update(props("name", "xdp0", "interface", rx, "ports", "9000,x"));
        Felix.await("refused a third time", () -> problem().startsWith("ports"));
        driver.uninstall();
    }

    /** The kernel's frame source in the sender's namespace, from CPUs 0 and 1 (queues 0 and 1). */
    private Process source(long perCpu) throws IOException {
        String mac = Files.readString(Path.of("/sys/class/net", rx, "address")).strip();
        String jar = new File(URI.create(Felix.bundleLocation("driver.xdp"))).getPath();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder("ip", "netns", "exec", ns, java, "--enable-native-access=ALL-UNNAMED", "-cp", jar,
                "pagepool.driver.xdp.XdpFrameSource", tx, mac, "9000", "64", String.valueOf(perCpu), "0,1")
                .redirectErrorStream(true).start();
    }

    /** Waits for the source to finish; what it sent. */
    private static long sent(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue("the source ended: " + out, p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(out, 0, p.exitValue());
        String last = out.strip().substring(out.strip().lastIndexOf('\n') + 1);
        assertTrue(out, last.startsWith("sent "));
        return Long.parseLong(last.substring(5));
    }

    /** The configuration problem standing now, or "" (it is withdrawn and registered anew on each update). */
    private String problem() {
        var ref = context.getServiceReference(ConfigProblem.class);
        ConfigProblem p = ref == null ? null : context.getService(ref);
        return p == null ? "" : p.message();
    }

    private String link() throws Exception {
        return run(false, "ip", "-d", "link", "show", "dev", rx);
    }

    private long queues(String provider) {
        return bindings.queues().stream().filter(q -> q.queue().device().equals("xdp0"))
                .filter(q -> q.provider().equals(provider) && q.state() == QueueInfo.State.OK).count();
    }

    private static long missed(NetDevice dev) {
        return ((Number) dev.details().get("rx-missed")).longValue();
    }

    private static long total(NetDevice dev, String counter) {
        long n = 0;
        for (int q = 0; q < dev.rxQueueCount(); q++) {
            n += stat(dev, q, counter);
        }
        return n;
    }

    private NetDevice xdp0() {
        try {
            var refs = context.getServiceReferences(NetDevice.class, "(" + NetDevice.NAME + "=xdp0)");
            return refs.isEmpty() ? null : context.getService(refs.iterator().next());
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static Dictionary<String, Object> props(Object... kv) {
        Dictionary<String, Object> d = new Hashtable<>();
        for (int i = 0; i < kv.length; i += 2) {
            d.put((String) kv[i], kv[i + 1]);
        }
        return d;
    }

    private static String run(boolean check, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": no answer in 30 s");
        }
        if (check && p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": " + out.strip());
        }
        return out;
    }
}

package pagepool.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.bundle;

import java.net.InetSocketAddress;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.junit.Test;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.OptionUtils;
import org.osgi.framework.Bundle;

import pagepool.api.binding.QueueInfo;
import pagepool.api.datagram.DatagramSender;
import pagepool.api.queue.NetDevice;
import pagepool.tck.ConformanceReport;
import pagepool.tck.ConformanceReport.Verdict;
import pagepool.tck.DriverBundleConformance;
import pagepool.tck.ProviderBundleConformance;

/**
 * The conformance kit inside Felix, on bundles installed there, as a vendor runs it on theirs: our
 * providers keep every promise (the heap provider while it serves sim0), the test provider bundle's
 * misbehaving providers fail the promises they break, by name; our drivers keep every promise on
 * devices the kit makes through Config Admin, on the running engine.
 */
public class ConformanceIT extends PagepoolTestBase {

    @Override
    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return OptionUtils.combine(Felix.withPagepool(), bundle(Felix.bundleLocation("pagepool.tck")));
    }

    private List<ConformanceReport> kit(Bundle b) {
        List<ConformanceReport> reports = ProviderBundleConformance.check(context, b);
        reports.forEach(System.out::println);
        return reports;
    }

    private static ConformanceReport about(List<ConformanceReport> reports, String subject) {
        return reports.stream().filter(r -> r.subject().startsWith(subject)).findFirst().orElseThrow(
                () -> new AssertionError("no report on " + subject + " in " + reports));
    }

    private Bundle installed(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + symbolicName);
    }

    @Test
    public void theHugePageBundleKeepsEveryPromise() throws Exception {
        org.osgi.service.cm.Configuration c = configAdmin.getConfiguration("pagepool.provider.hugepage", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("pages", 8);
        c.update(p);
        Bundle huge = context.installBundle(Felix.bundleLocation("provider.hugepage"));
        huge.start();
        Felix.await("hugepage registered", () -> bindings.providers().stream().anyMatch(x -> x.name().equals("hugepage")));

        List<ConformanceReport> reports = kit(huge);
        assertEquals("one provider, then the bundle: " + reports, 2, reports.size());
        reports.forEach(r -> assertTrue(r.toString(), r.passed()));
        ConformanceReport bundle = about(reports, "bundle provider.hugepage");
        assertEquals(bundle.toString(), Verdict.PASS, bundle.result("stop-with-pages-out").verdict());
        assertEquals(Bundle.ACTIVE, huge.getState());
    }

    @Test
    public void theHeapBundleKeepsEveryPromiseWhileItServesTheQueues() throws Exception {
        NetDevice dev = startDevice(Map.of());
        List<ConformanceReport> reports = kit(installed("provider.heap"));
        reports.forEach(r -> assertTrue(r.toString(), r.passed()));
        assertEquals(Verdict.PASS, about(reports, "bundle provider.heap").result("stop-with-pages-out").verdict());

        // The engine lost its default provider for a moment and got it back: sim0 runs on it again.
        Felix.await("sim0's queues on heap again", () -> bindings.queues().size() == 4 && bindings.queues().stream()
                .allMatch(q -> q.provider().equals("heap") && q.state() == QueueInfo.State.OK));
        long[] before = new long[4];
        for (int q = 0; q < 4; q++) {
            before[q] = stat(dev, q, "packets");
        }
        for (int q = 0; q < 4; q++) {
            int i = q;
            Felix.await("traffic on queue " + q, () -> stat(dev, i, "packets") > before[i] + 500);
            assertEquals(0L, stat(dev, q, "corrupt"));
        }
    }

    @Test
    public void misbehavingProvidersFailThePromisesTheyBreakByName() throws Exception {
        org.osgi.service.cm.Configuration c = configAdmin.getConfiguration("pagepool.itest.faultmem", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("alloc.throw.probability", 1.0d);
        c.update(p);
        // eagermem frees its memory when its bundle stops, whatever pools still hold.
        configAdmin.getConfiguration("pagepool.itest.eagermem", "?").update(new Hashtable<>(Map.of("on", true)));
        Bundle providers = context.installBundle(Felix.testProviderLocation());
        providers.start();
        Felix.await("faultmem and eagermem registered", () -> bindings.providers().stream()
                .filter(x -> x.name().equals("faultmem") || x.name().equals("eagermem")).count() == 2);

        List<ConformanceReport> reports = kit(providers);
        ConformanceReport faultmem = about(reports, "provider 'faultmem'");
        assertTrue(faultmem.toString(), faultmem.failed().contains("alloc-never-throws"));
        assertTrue(faultmem.toString(), faultmem.result("alloc-never-throws").detail().contains("injected"));
        assertTrue(about(reports, "provider 'testmem'").toString(), about(reports, "provider 'testmem'").passed());
        // Its promises as a provider hold while its bundle runs; what it does when the bundle stops does not.
        assertTrue(about(reports, "provider 'eagermem'").toString(), about(reports, "provider 'eagermem'").passed());
        ConformanceReport bundle = about(reports, "bundle pagepool.itest.provider");
        assertEquals(bundle.toString(), List.of("stop-with-pages-out"), bundle.failed());
        String detail = bundle.result("stop-with-pages-out").detail();
        assertTrue(detail, detail.contains("eagermem") && detail.contains("freed when the bundle stopped"));
        assertEquals("started again", Bundle.ACTIVE, providers.getState());
    }

    @Test
    public void theSimulatedNicsBundleKeepsEveryDriverPromiseOnTheRunningEngine() throws Exception {
        ConformanceReport r = DriverBundleConformance.check(context, installed("driver.sim"), subject(
                "pagepool.sim.device", Map.of("name", "simtck", "rx.queues", 2, "ring.size", 256, "rate.pps", 20_000L,
                        "hold.micros", 100L)));
        System.out.println(r);
        assertTrue(r.toString(), r.passed());
        assertEquals(r.toString(), Verdict.SKIP, r.result("accounting").verdict()); // it makes its own traffic
        for (String kept : List.of("device", "starts", "restart-onto-other-memory", "link-down-up", "page-hold",
                "reset-modes", "counters-monotonic", "close")) {
            assertEquals(r.toString(), Verdict.PASS, r.result(kept).verdict());
        }
    }

    @Test
    public void theUdpDriversBundleKeepsEveryDriverPromiseUnderRealTraffic() throws Exception {
        Bundle uring = context.installBundle(Felix.bundleLocation("driver.uring"));
        uring.start();
        Felix.await("the datagram sender", () -> context.getServiceReference(DatagramSender.class) != null);
        DatagramSender sender = context.getService(context.getServiceReference(DatagramSender.class));
        ConformanceReport r = DriverBundleConformance.check(context, uring, new DriverBundleConformance.Subject() {
            @Override
            public String factoryPid() {
                return "pagepool.uring.device";
            }

            @Override
            public Map<String, Object> configuration() {
                return Map.of("name", "udptck", "port", 0, "rx.queues", 2);
            }

            @Override
            public long send(NetDevice device, long count) {
                String address = (String) device.details().get("address");
                int port = Integer.parseInt(address.substring(address.indexOf(':') + 1));
                return sender.send(new InetSocketAddress("127.0.0.1", port), 256, count, 0).sent();
            }
        });
        System.out.println(r);
        assertTrue(r.toString(), r.passed());
        assertEquals(r.toString(), Verdict.PASS, r.result("accounting").verdict());
    }

    @Test
    public void aDriverBundleThatMakesNoDeviceOfItsConfigurationFailsTheDevicePromise() throws Exception {
        // No component of the bundle takes that factory pid.
        ConformanceReport r = DriverBundleConformance.check(context, installed("driver.sim"),
                subject("pagepool.sim.nosuch", Map.of("name", "simnone")));
        System.out.println(r);
        assertEquals(r.toString(), List.of("device"), r.failed());
        assertTrue(r.toString(), r.result("device").detail().contains("no device 'simnone' registered by driver.sim"));
        assertEquals(r.toString(), Verdict.SKIP, r.result("close").verdict());
    }

    /** A driver bundle's subject that makes its own traffic: a factory pid and one device's configuration. */
    private static DriverBundleConformance.Subject subject(String factoryPid, Map<String, Object> configuration) {
        return new DriverBundleConformance.Subject() {
            @Override
            public String factoryPid() {
                return factoryPid;
            }

            @Override
            public Map<String, Object> configuration() {
                return configuration;
            }
        };
    }
}

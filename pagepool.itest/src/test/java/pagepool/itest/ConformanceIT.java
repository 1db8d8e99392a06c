package pagepool.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.bundle;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.junit.Test;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.OptionUtils;
import org.osgi.framework.Bundle;

import pagepool.api.binding.QueueInfo;
import pagepool.api.queue.NetDevice;
import pagepool.tck.ConformanceReport;
import pagepool.tck.ConformanceReport.Verdict;
import pagepool.tck.ProviderBundleConformance;

/**
 * The conformance kit inside Felix, on provider bundles installed there, as a vendor runs it on
 * theirs: our providers keep every promise (the heap provider while it serves sim0), and the test
 * provider bundle's misbehaving providers fail the promises they break, by name.
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
}

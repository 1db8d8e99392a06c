package pagepool.itest;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import javax.inject.Inject;

import org.junit.After;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;

import pagepool.api.binding.PoolBindings;
import pagepool.api.queue.NetDevice;

/** What every integration test gets: a fresh Felix per test with the pagepool bundles, and the services it talks to. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public abstract class PagepoolTestBase {

    @Inject
    protected BundleContext context;

    @Inject
    protected PoolBindings bindings;

    @Inject
    protected ConfigurationAdmin configAdmin;

    /** The configuration of the device {@link #startDevice} made, deleted after the test. */
    protected org.osgi.service.cm.Configuration deviceConfig;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return Felix.withPagepool();
    }

    @After
    public void removeDevice() throws Exception {
        if (deviceConfig != null) {
            deviceConfig.delete();
        }
    }

    /** Creates sim0 through Config Admin and waits until its 4 queues run on heap with traffic. */
    protected NetDevice startDevice(Map<String, Object> overrides) throws Exception {
        deviceConfig = configAdmin.createFactoryConfiguration("pagepool.sim.device", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("name", "sim0");
        p.put("rx.queues", 4);
        p.put("ring.size", 256);
        p.put("rate.pps", 20_000L);
        p.put("hold.micros", 100L);
        overrides.forEach(p::put);
        deviceConfig.update(p);
        Felix.await("sim0 registered", () -> device() != null);
        NetDevice dev = device();
        Felix.await("4 queues on heap", () -> bindings.queues().size() == 4
                && bindings.queues().stream().allMatch(q -> q.provider().equals("heap")));
        for (int q = 0; q < 4; q++) {
            int i = q;
            Felix.await("traffic on queue " + q, () -> stat(dev, i, "packets") > 500);
        }
        return dev;
    }

    protected NetDevice device() {
        ServiceReference<NetDevice> ref = context.getServiceReference(NetDevice.class);
        return ref == null ? null : context.getService(ref);
    }

    protected static long stat(NetDevice dev, int queue, String name) {
        return dev.queueStats(queue).get(name);
    }

    /** Drops at the NIC (queue stopped, ring empty): what a swap could cause; socket backlog drops are the stack's. */
    protected static long nicDrops(NetDevice dev, int queue) {
        return stat(dev, queue, "drops-stopped") + stat(dev, queue, "drops-no-buffer");
    }
}

package pagepool.itest;

import javax.inject.Inject;

import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;
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

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return Felix.withPagepool();
    }

    protected static long stat(NetDevice dev, int queue, String name) {
        return dev.queueStats(queue).get(name);
    }

    /** Drops at the NIC (queue stopped, ring empty): what a swap could cause; socket backlog drops are the stack's. */
    protected static long nicDrops(NetDevice dev, int queue) {
        return stat(dev, queue, "drops-stopped") + stat(dev, queue, "drops-no-buffer");
    }
}

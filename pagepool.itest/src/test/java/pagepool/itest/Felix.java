package pagepool.itest;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.File;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.ops4j.pax.exam.Option;

/** What every integration test starts from, and waits with. */
final class Felix {

    /** The bundles under test, in start order, from the folder the build copied them to. */
    private static final String[] BUNDLES = {"org.osgi.service.log", "org.osgi.util.function", "org.osgi.util.promise",
        "org.osgi.service.component", "org.apache.felix.configadmin", "org.apache.felix.scr", "pagepool.api",
        "pagepool.engine", "provider.heap", "driver.sim"};

    private Felix() {
    }

    /** Felix with SCR, Config Admin, the engine, the heap provider and the simulated NIC bundle. */
    static Option[] withPagepool() {
        String dir = System.getProperty("pagepool.bundles");
        Option[] opts = new Option[BUNDLES.length + 6];
        int i = 0;
        for (String b : BUNDLES) {
            opts[i++] = bundle(new File(dir, b + ".jar").toURI().toString());
        }
        opts[i++] = junitBundles();
        opts[i++] = cleanCaches(true);
        opts[i++] = systemProperty("pagepool.bundles").value(dir);
        opts[i++] = systemProperty("pagepool.testprovider").value(System.getProperty("pagepool.testprovider"));
        opts[i++] = systemProperty("pagepool.soak.swaps").value(System.getProperty("pagepool.soak.swaps", "500"));
        opts[i] = systemProperty("pagepool.soak.init.delay.millis").value(
                System.getProperty("pagepool.soak.init.delay.millis", "50"));
        return options(opts);
    }

    /** A bundle the build copied but the framework does not start with, to install during a test. */
    static String bundleLocation(String name) {
        return new File(System.getProperty("pagepool.bundles"), name + ".jar").toURI().toString();
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }
}

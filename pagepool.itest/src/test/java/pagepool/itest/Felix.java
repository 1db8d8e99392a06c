package pagepool.itest;

import static org.ops4j.pax.exam.CoreOptions.bootDelegationPackages;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.File;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.ops4j.pax.exam.Option;

/** What every integration test starts from, and waits with. */
final class Felix {

    private Felix() {
    }

    /**
     * Felix with the system under test: the bundles {@code pagepool-itest.bndrun} resolved from the
     * runtime's description, installed in the order of the start levels they declare (the drivers'
     * {@code pagepool.startlevel} capability: after the engine and the providers they take memory
     * from, as the runtime starts them), then by name.
     */
    static Option[] withPagepool() {
        List<Option> opts = new ArrayList<>();
        for (File jar : runBundles()) {
            opts.add(bundle(jar.toURI().toString()));
        }
        opts.add(junitBundles());
        // The runtime's own boot delegation (one place: its felix.properties).
        opts.add(bootDelegationPackages(runtimeBootDelegation()));
        opts.add(cleanCaches(true));
        for (String key : List.of("pagepool.bundles", "pagepool.testprovider", "pagepool.soak.swaps",
                "pagepool.soak.init.delay.millis")) {
            String value = System.getProperty(key);
            if (value != null) {
                opts.add(systemProperty(key).value(value));
            }
        }
        return options(opts.toArray(Option[]::new));
    }

    private static List<File> runBundles() {
        File dir = new File(System.getProperty("pagepool.runbundles", "target/export/pagepool-itest"));
        File[] jars = dir.listFiles((d, name) -> name.endsWith(".jar"));
        if (jars == null || jars.length == 0) {
            throw new IllegalStateException("no bundles in " + dir + " (expected: the export of pagepool-itest.bndrun;"
                    + " run the tests through Maven: ./build -B verify)");
        }
        List<File> out = new ArrayList<>(List.of(jars));
        out.sort(Comparator.comparingInt(Felix::declaredStartLevel).thenComparing(File::getName));
        return out;
    }

    /** The start level a bundle jar declares ({@code Provide-Capability: pagepool.startlevel;level:Long=N}), or 1. */
    static int declaredStartLevel(File jar) {
        try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar)) {
            String caps = j.getManifest() == null ? null : j.getManifest().getMainAttributes().getValue(
                    "Provide-Capability");
            java.util.regex.Matcher m = caps == null ? null : java.util.regex.Pattern.compile(
                    "pagepool\\.startlevel;level:Long=\"?(\\d+)").matcher(caps);
            return m != null && m.find() ? Integer.parseInt(m.group(1)) : 1;
        } catch (java.io.IOException e) {
            throw new IllegalStateException("reading " + jar + ": " + e, e);
        }
    }

    /** {@code org.osgi.framework.bootdelegation} of the runtime's felix.properties, as package patterns. */
    static String[] runtimeBootDelegation() {
        String file = System.getProperty("pagepool.felix.properties");
        java.util.Properties p = new java.util.Properties();
        try (java.io.Reader r = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of(file))) {
            p.load(r);
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalStateException("the runtime's felix.properties (pagepool.felix.properties=" + file + "): " + e, e);
        }
        String value = p.getProperty("org.osgi.framework.bootdelegation");
        if (value == null) {
            throw new IllegalStateException(file + " has no org.osgi.framework.bootdelegation");
        }
        return java.util.Arrays.stream(value.split(",")).map(String::strip).toArray(String[]::new);
    }

    /** A provider bundle the build copied but the framework does not start with, to install during a test. */
    static String bundleLocation(String name) {
        return new File(System.getProperty("pagepool.bundles"), name + ".jar").toURI().toString();
    }

    /** This module's own jar: the test providers ({@code faultmem}, ...). */
    static String testProviderLocation() {
        return new File(System.getProperty("pagepool.testprovider")).toURI().toString();
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

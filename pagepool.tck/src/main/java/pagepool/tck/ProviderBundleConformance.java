package pagepool.tck;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;

import pagepool.api.Netmem;
import pagepool.api.PoolParams;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.ProviderRefusedException;
import pagepool.tck.ConformanceReport.Result;
import pagepool.tck.ProviderConformance.Pool;
import pagepool.tck.Promises.Promise;
import pagepool.tck.Promises.Skip;

/**
 * The provider kit inside a running OSGi framework, on a bundle installed there: every
 * {@link MemoryProvider} service the bundle registers is checked as {@link ProviderConformance}
 * checks a provider, on the service object the engine would get; then what only a framework can
 * show, the bundle stopped while a pool holds its pages. The subject is the bundle and its service
 * references, never a provider name (any bundle can register any name).
 *
 * <pre>{@code
 * // in a Pax Exam or osgi-test test, with the test's own context
 * for (ConformanceReport r : ProviderBundleConformance.check(context, myProviderBundle)) {
 *     System.out.println(r);
 *     assertTrue(r.toString(), r.passed());
 * }
 * }</pre>
 *
 * The bundle is stopped and started again by the last check; the caller's framework should not
 * depend on it meanwhile (the engine moves the queues it served, and back).
 */
public final class ProviderBundleConformance {

    /** How long the bundle may take to stop, and to register its providers again after it starts. */
    static final long RESTART_MILLIS = 20_000;
    /** How many pages of each provider a pool holds while the bundle stops. */
    static final int HELD = 32;

    private ProviderBundleConformance() {
    }

    /**
     * Checks every provider service of {@code bundle} (one report each: the provider promises),
     * then the bundle itself (one report: it registers a provider; it stops with pages out).
     *
     * @param context the caller's context, through which the kit gets the services
     * @param bundle an active bundle that registers one or more memory providers
     */
    public static List<ConformanceReport> check(BundleContext context, Bundle bundle) {
        List<ConformanceReport> reports = new ArrayList<>();
        List<ServiceReference<MemoryProvider>> refs = providers(bundle);
        for (ServiceReference<MemoryProvider> ref : refs) {
            MemoryProvider p = context.getService(ref);
            if (p == null) {
                continue; // unregistered meanwhile: the bundle's report says what remains
            }
            try {
                ConformanceReport r = ProviderConformance.check(() -> p);
                reports.add(new ConformanceReport(r.subject() + " of " + describe(bundle) + " (service.id "
                        + ref.getProperty(Constants.SERVICE_ID) + ")", r.results()));
            } finally {
                context.ungetService(ref);
            }
        }
        List<Result> results = new ArrayList<>();
        Promise<Bundle> registers = new Promise<>("registers-provider",
                "the bundle, active, registers at least one MemoryProvider service", b -> refs.isEmpty()
                        ? describe(b) + " in state " + state(b) + " registers no MemoryProvider service (it registers "
                                + Arrays.toString(b.getRegisteredServices()) + ")"
                        : null);
        results.add(Promises.run(registers, () -> bundle, RESTART_MILLIS, "the framework does not answer"));
        Promise<Bundle> stop = new Promise<>("stop-with-pages-out", "stopped while a pool holds " + HELD
                + " pages of each of its providers, the bundle frees none of that memory: the pages stay mapped"
                + " and keep their bytes, release and destroy still answer, and the bundle starts again with"
                + " its providers", b -> stopWithPagesOut(context, b));
        results.add(Promises.run(stop, () -> bundle, 3 * RESTART_MILLIS, "the bundle does not stop or start"));
        reports.add(new ConformanceReport(describe(bundle), results));
        return reports;
    }

    @SuppressWarnings("unchecked")
    private static List<ServiceReference<MemoryProvider>> providers(Bundle bundle) {
        List<ServiceReference<MemoryProvider>> out = new ArrayList<>();
        ServiceReference<?>[] all = bundle.getRegisteredServices();
        for (ServiceReference<?> ref : all == null ? new ServiceReference<?>[0] : all) {
            if (Arrays.asList((String[]) ref.getProperty(Constants.OBJECTCLASS)).contains(
                    MemoryProvider.class.getName())) {
                out.add((ServiceReference<MemoryProvider>) ref);
            }
        }
        return out;
    }

    private static String stopWithPagesOut(BundleContext context, Bundle bundle) throws Exception {
        List<ServiceReference<MemoryProvider>> refs = providers(bundle);
        if (refs.isEmpty()) {
            throw new Skip("no provider to take pages from");
        }
        List<Pool> pools = new ArrayList<>();
        try {
            for (ServiceReference<MemoryProvider> ref : refs) {
                MemoryProvider p = context.getService(ref);
                Pool pool;
                try {
                    pool = new Pool(p, PoolParams.builder().build());
                } catch (ProviderRefusedException | RuntimeException e) {
                    continue; // it holds nothing here; its own report names what it did
                }
                pools.add(pool);
                try {
                    pool.alloc(HELD);
                } catch (RuntimeException e) {
                    // likewise: a faulty alloc is its own report's finding, not the bundle's
                }
            }
            if (pools.stream().allMatch(p -> p.out.isEmpty())) {
                throw new Skip("no provider of the bundle gave a page to a plain pool of order 0");
            }
            for (Pool pool : pools) {
                if (pool.provider.capabilities().readable()) {
                    for (int i = 0; i < pool.out.size(); i++) {
                        ProviderConformance.page(pool.out.get(i)).fill(pattern(i));
                    }
                }
            }
            bundle.stop();
            String broken = null;
            for (Pool pool : pools) {
                if (broken == null && pool.provider.capabilities().readable()) {
                    broken = intact(pool);
                }
            }
            for (Pool pool : pools) {
                try {
                    pool.releaseAll();
                    pool.destroy();
                } catch (RuntimeException e) {
                    broken = broken != null ? broken : "after its bundle stopped, provider '" + pool.provider.name()
                            + "' threw " + e + " on release or destroy (expected: the provider object serves the"
                            + " pools it has until they are destroyed)";
                }
            }
            pools.clear();
            bundle.start();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RESTART_MILLIS);
            while (providers(bundle).size() < refs.size()) {
                if (System.nanoTime() > deadline) {
                    return broken != null ? broken : describe(bundle) + " started again registers "
                            + providers(bundle).size() + " providers after " + RESTART_MILLIS + " ms (expected: "
                            + refs.size() + ", as before it stopped)";
                }
                Thread.sleep(10);
            }
            return broken;
        } finally {
            for (Pool pool : pools) { // a check that threw: give back what it holds
                try {
                    pool.releaseAll();
                    pool.destroy();
                } catch (RuntimeException ignored) {
                    // the verdict already says what broke
                }
            }
            for (ServiceReference<MemoryProvider> ref : refs) {
                try {
                    context.ungetService(ref);
                } catch (IllegalStateException ignored) {
                    // the caller's context is gone: nothing to give back
                }
            }
            if ((bundle.getState() & (Bundle.RESOLVED | Bundle.INSTALLED)) != 0) {
                try {
                    bundle.start();
                } catch (BundleException ignored) {
                    // the report already says the bundle did not come back
                }
            }
        }
    }

    /** Null when every page the pool holds is still mapped and holds what was written into it. */
    private static String intact(Pool pool) {
        for (int i = 0; i < pool.out.size(); i++) {
            Netmem n = pool.out.get(i);
            MemorySegment s;
            try {
                s = ProviderConformance.page(n);
            } catch (RuntimeException e) {
                return "page " + ProviderConformance.nm(n) + " held by a pool cannot be reached after the bundle"
                        + " stopped: " + e;
            }
            if (!s.scope().isAlive()) {
                return "page " + ProviderConformance.nm(n) + " held by a pool: its memory was freed when the bundle"
                        + " stopped (the segment's scope is closed)";
            }
            if (!mapped(s.address(), s.byteSize())) {
                return "page " + ProviderConformance.nm(n) + " at 0x" + Long.toHexString(s.address()) + " held by a"
                        + " pool was unmapped when the bundle stopped (not in /proc/self/maps)";
            }
            for (long at = 0; at < s.byteSize(); at += 512) {
                byte b = s.get(ValueLayout.JAVA_BYTE, at);
                if (b != pattern(i)) {
                    return "page " + ProviderConformance.nm(n) + " held by a pool changed at byte " + at
                            + " when the bundle stopped: 0x" + Integer.toHexString(b & 0xff) + " (expected: 0x"
                            + Integer.toHexString(pattern(i) & 0xff) + ")";
                }
            }
        }
        return null;
    }

    private static byte pattern(int i) {
        return (byte) (0x60 + (i & 0x1f));
    }

    /**
     * Whether {@code [address, address + size)} lies in one mapping of this process. Reading an
     * unmapped page would end the JVM, so the kit looks before it reads; off Linux it cannot, and
     * says yes.
     */
    static boolean mapped(long address, long size) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException | RuntimeException e) {
            return true;
        }
        for (String line : lines) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash < 0 || space < dash) {
                continue;
            }
            long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
            long end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
            if (Long.compareUnsigned(start, address) <= 0 && Long.compareUnsigned(address + size, end) <= 0) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Bundle b) {
        return "bundle " + b.getSymbolicName() + " " + b.getVersion() + " (id " + b.getBundleId() + ")";
    }

    private static String state(Bundle b) {
        return switch (b.getState()) {
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> "UNINSTALLED";
        };
    }
}

package pagepool.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;

import pagepool.api.binding.BindingInfo;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueDebug;

/**
 * Provider swaps over every queue of a 4-queue and a 100-queue device under traffic, with sockets
 * holding pages, provider bundles uninstalled and installed again, link down/up cycles with a page
 * held across them, and {@code faultmem}, a provider that throws and stalls as configured, among
 * the providers. At the end every packet and page is accounted for: {@code generated = packets +
 * drops} and {@code verified = packets} on every queue, nothing corrupt, no pool left, every page
 * back with every provider that lent it, each init paired with a destroy, no thread dead and no
 * error logged but the injected faults.
 *
 * <p>The build runs {@value #DEFAULT_SWAPS} swaps; {@code ./bench soak} runs 10,000
 * ({@code -Dpagepool.soak.swaps}) with faultmem's slow inits at a full second. With
 * {@code -Dpagepool.soak.alloc.budget.millis} below the init delay, every slow init overruns the
 * engine's budget: the engine goes on without it on a new thread, and the late pool is freed.
 */
public class SoakIT extends PagepoolTestBase {

    static final int DEFAULT_SWAPS = 500;

    /** Where every provider service object seen goes, to read its ledger at the end. */
    private final List<Object> providersSeen = new ArrayList<>();
    private final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    private final AtomicLong impostorRefusals = new AtomicLong();
    private static final java.util.logging.Formatter FORMAT = new java.util.logging.SimpleFormatter();
    private final ConcurrentLinkedQueue<String> died = new ConcurrentLinkedQueue<>();

    private org.osgi.service.cm.Configuration device(String name, Map<String, Object> settings) throws Exception {
        org.osgi.service.cm.Configuration c = configAdmin.createFactoryConfiguration("pagepool.sim.device", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("name", name);
        settings.forEach(p::put);
        c.update(p);
        return c;
    }

    private NetDevice deviceNamed(String name) throws Exception {
        for (ServiceReference<NetDevice> r : context.getServiceReferences(NetDevice.class, "(" + NetDevice.NAME + "=" + name
                + ")")) {
            return context.getService(r);
        }
        return null;
    }

    private void noteProviders() throws Exception {
        for (ServiceReference<MemoryProvider> r : context.getServiceReferences(MemoryProvider.class, null)) {
            Object p = context.getService(r);
            if (providersSeen.stream().noneMatch(x -> x == p)) {
                providersSeen.add(p);
            }
        }
    }

    private static long ledger(Object provider, String field) {
        try {
            return ((AtomicLong) provider.getClass().getField(field).get(provider)).get();
        } catch (NoSuchFieldException e) {
            return -1; // not a test provider: heap or hugepage
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    public void swapsFaultsBundlesAndLinkCyclesUnderTrafficLoseAndLeakNothing() throws Exception {
        int swaps = Integer.getInteger("pagepool.soak.swaps", DEFAULT_SWAPS);
        long initDelay = Long.getLong("pagepool.soak.init.delay.millis", 50);
        Handler watch = new Handler() {
            @Override
            public void publish(LogRecord r) {
                String m = FORMAT.formatMessage(r) + (r.getThrown() == null ? "" : " " + r.getThrown());
                if (r.getLevel().intValue() < Level.SEVERE.intValue() || m.contains("injected")) {
                    return;
                }
                if (m.contains("memory provider 'testmem' of bundle " + context.getBundle().getBundleId()
                        + " is not taken: the name belongs to a provider of bundle")) {
                    impostorRefusals.incrementAndGet(); // the impostor, refused as it should be
                    return;
                }
                errors.add(r.getLoggerName() + ": " + m);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger.getLogger("").addHandler(watch);
        // The watch must see what bundles log through System.Logger, or its silence proves nothing.
        System.getLogger("pagepool.soak").log(System.Logger.Level.ERROR, "soak self-check");
        assertTrue("the log watch sees System.Logger: " + errors, errors.stream().anyMatch(e -> e.contains("soak self-check")));
        errors.clear();
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> died.add(t.getName() + ": " + e));
        try {
            soak(swaps, initDelay);
        } finally {
            Logger.getLogger("").removeHandler(watch);
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }

    private void soak(int swaps, long initDelay) throws Exception {
        long t0 = System.nanoTime();
        org.osgi.service.cm.Configuration faults = configAdmin.getConfiguration("pagepool.itest.faultmem", "?");
        Dictionary<String, Object> f = new Hashtable<>();
        f.put("alloc.fail.after.pages", 5_000L); // then it has nothing left to give, until its bundle returns
        f.put("alloc.throw.probability", 0.0005d);
        f.put("init.throw.every", 7);
        f.put("init.delay.millis", initDelay);
        f.put("release.throw.probability", 0.0001d);
        f.put("destroy.throw.probability", 0.05d);
        f.put("release.slow.probability", 0.0002d); // time: over its budget, charged
        f.put("alloc.lie.probability", 0.0005d); // lies: a negative page count, charged
        faults.update(f);
        long allocBudget = Long.getLong("pagepool.soak.alloc.budget.millis", 5_000);
        if (allocBudget != 5_000) {
            org.osgi.service.cm.Configuration engine = configAdmin.getConfiguration("pagepool.engine", "?");
            Dictionary<String, Object> e = engine.getProperties() != null ? engine.getProperties() : new Hashtable<>();
            e.put("alloc.budget.millis", allocBudget);
            engine.update(e);
        }
        org.osgi.service.cm.Configuration sim0 = device("sim0", Map.of("rx.queues", 4, "ring.size", 256, "rate.pps",
                10_000L, "socket.fraction", 0.5d, "hold.micros", 1_000L));
        org.osgi.service.cm.Configuration sim1 = device("sim1", Map.of("rx.queues", 100, "ring.size", 64, "rate.pps",
                300L, "socket.fraction", 0.5d, "hold.micros", 1_000L));
        Felix.await("both devices up", () -> bindings.queues().size() == 104
                && bindings.queues().stream().allMatch(q -> q.provider().equals("heap")));
        Bundle tests = context.installBundle(Felix.testProviderLocation());
        tests.start();
        Bundle huge = context.installBundle(Felix.bundleLocation("provider.hugepage"));
        huge.start();
        Felix.await("providers", () -> bindings.providers().size() == 5);
        noteProviders();
        // Impostors: this bundle borrows testmem's name, ranked above it, and never gets a pool.
        ImpostorProvider impostor = new ImpostorProvider("testmem");
        org.osgi.framework.ServiceRegistration<pagepool.api.provider.MemoryProvider> impostorReg = context
                .registerService(pagepool.api.provider.MemoryProvider.class, impostor, new Hashtable<>(Map.of(
                        pagepool.api.provider.MemoryProvider.NAME, "testmem", org.osgi.framework.Constants.SERVICE_RANKING,
                        1000)));

        String[] devices = {"sim0", "sim1"};
        int[] counts = {4, 100};
        String[] targets = {"testmem", "faultmem", "hugepage"};
        Map<String, Long> mine = new HashMap<>(); // "dev/q" -> binding id
        Map<String, Integer> held = new HashMap<>();
        Random rnd = new Random(20261129);
        int binds = 0;
        int unbinds = 0;
        int linkCycles = 0;
        int bundleCycles = 0;
        for (int i = 0; i < swaps; i++) {
            int d = i % 2;
            int q = rnd.nextInt(counts[d]);
            String key = devices[d] + "/" + q;
            Long id = mine.remove(key);
            if (id != null) {
                bindings.unbind(id);
                unbinds++;
            } else {
                BindingInfo b = bindings.bind(devices[d], List.of(q), targets[rnd.nextInt(targets.length)]);
                mine.put(key, b.id());
                binds++;
            }
            if (i % 50 == 25) {
                // ip link set down with a page held across it (pp_hold), then up, then the page back.
                String dev = devices[rnd.nextInt(2)];
                NetDevice nd = deviceNamed(dev);
                QueueDebug dbg = (QueueDebug) nd;
                int hq = rnd.nextInt(nd.rxQueueCount());
                if (dbg.holdPage(hq)) {
                    held.merge(dev + "/" + hq, 1, Integer::sum);
                }
                nd.setAdminUp(false);
                Felix.await(dev + " down", () -> bindings.devices().stream().anyMatch(x -> x.name().equals(dev) && !x.up()));
                nd.setAdminUp(true);
                Felix.await(dev + " up", () -> bindings.devices().stream().anyMatch(x -> x.name().equals(dev) && x.up()));
                dbg.releaseHeldPages(hq);
                linkCycles++;
            }
            if (i % 100 == 50) {
                // A provider bundle leaves under traffic and comes back.
                Bundle b = bundleCycles % 2 == 0 ? huge : tests;
                b.uninstall();
                if (b == huge) {
                    huge = context.installBundle(Felix.bundleLocation("provider.hugepage"));
                    huge.start();
                } else {
                    tests = context.installBundle(Felix.testProviderLocation());
                    tests.start();
                }
                Felix.await("providers back", () -> bindings.providers().size() == 5);
                noteProviders();
                bundleCycles++;
            }
            if (i % 150 == 100) {
                bindings.resetProvider("faultmem"); // an operator lets the quarantined provider try again
            }
        }
        long swapNanos = System.nanoTime() - t0;

        // Stop the wire, let the sockets give everything back, then account for it all.
        mine.values().forEach(bindings::unbind);
        NetDevice d0 = deviceNamed("sim0");
        NetDevice d1 = deviceNamed("sim1");
        d0.setCarrier(false);
        d1.setCarrier(false);
        Map<String, Long> drops = new HashMap<>();
        for (NetDevice nd : List.of(d0, d1)) {
            for (int q = 0; q < nd.rxQueueCount(); q++) {
                int i = q;
                Felix.await("sockets caught up on " + nd.name() + "/" + q,
                        () -> nd.queueStats(i).get("verified").equals(nd.queueStats(i).get("packets")));
                Map<String, Long> s = nd.queueStats(q);
                assertEquals(nd.name() + "/" + q + ": " + s, (long) s.get("generated"), s.get("packets") + s.get("drops"));
                assertEquals(nd.name() + "/" + q + ": " + s, 0L, (long) s.get("corrupt"));
                assertEquals(nd.name() + "/" + q + " NAPI and sockets met no error: " + s, 0L, (long) s.get("errors"));
                for (String k : List.of("packets", "drops", "drops-stopped", "drops-no-buffer", "drops-backlog",
                        "drops-failed")) {
                    drops.merge(nd.name() + " " + k, s.get(k), Long::sum);
                }
                drops.merge(nd.name() + " most drops on a queue", s.get("drops"), Math::max);
            }
        }
        sim0.delete();
        sim1.delete();
        Felix.await("no pool left after the drain", () -> bindings.pools().isEmpty());
        for (Object p : providersSeen) {
            long out = ledger(p, "pagesOut");
            if (out >= 0) {
                assertEquals(p + ": every page back", 0, out);
                assertEquals(p + ": init and destroy paired", ledger(p, "initsCompleted"), ledger(p, "destroys"));
            }
        }
        assertEquals("the impostor never got a pool, though testmem's bundle left and came back", 0,
                impostor.inits.get());
        assertEquals("the impostor was refused once, in one line, and never promoted", 1, impostorRefusals.get());
        impostorReg.unregister();
        assertTrue("no thread died: " + died, died.isEmpty());
        assertTrue("no error logged but the injected faults: " + errors, errors.isEmpty());
        long injected = providersSeen.stream().mapToLong(p -> Math.max(0, ledger(p, "injected"))).sum();
        System.out.printf("soak: %d swaps (%d binds, %d unbinds), %d link cycles, %d bundle cycles, %d injected faults"
                + " in %.1f s%n", swaps, binds, unbinds, linkCycles, bundleCycles, injected, swapNanos / 1e9);
        for (String dev : devices) {
            System.out.printf("soak: %s %d packets, %d drops (stopped %d, no buffer %d, backlog %d, failed %d), at most"
                    + " %d on one queue%n", dev, drops.get(dev + " packets"), drops.get(dev + " drops"),
                    drops.get(dev + " drops-stopped"), drops.get(dev + " drops-no-buffer"),
                    drops.get(dev + " drops-backlog"), drops.get(dev + " drops-failed"),
                    drops.get(dev + " most drops on a queue"));
            assertEquals(dev + ": no queue failed", 0L, (long) drops.get(dev + " drops-failed"));
        }
        faults.delete();
    }
}

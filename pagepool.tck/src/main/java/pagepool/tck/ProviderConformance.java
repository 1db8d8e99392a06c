package pagepool.tck;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PoolParams;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;
import pagepool.tck.ConformanceReport.Result;
import pagepool.tck.Promises.Promise;
import pagepool.tck.Promises.Skip;

/**
 * The promises of the {@link MemoryProvider} contract, checked on a provider as the engine would
 * call it, but without the engine's guards: each promise runs on a fresh provider from the
 * supplier, in a thread of its own with a deadline, and reports what broke it with the values.
 *
 * <pre>{@code
 * ConformanceReport r = ProviderConformance.check(MyProvider::new);
 * System.out.println(r);              // the report
 * assertTrue(r.passed(), r::toString);
 *
 * @TestFactory Stream<DynamicTest> conformance() {      // or one JUnit test per promise
 *     return ProviderConformance.tests(MyProvider::new);
 * }
 * }</pre>
 */
public final class ProviderConformance {

    /** How long one promise may take, provider calls included. */
    static final long DEADLINE_MILLIS = 20_000;
    /** The engine's budgets: a page call (alloc, release) and a pool call (init, destroy). */
    static final long PAGE_CALL_MILLIS = 500;
    static final long POOL_CALL_MILLIS = 5_000;
    /** How many pages the kit takes at most when it looks for the provider's end. */
    static final int MAX_PAGES = 1 << 16;

    private static final List<Promise<Supplier<MemoryProvider>>> PROMISES = List.of(
            new Promise<>("name", "name() is a non-blank name, the same on every call", ProviderConformance::name),
            new Promise<>("capabilities", "capabilities() is non-null and the same on every call",
                    ProviderConformance::capabilities),
            new Promise<>("init-or-refuse", "init accepts a pool or refuses it with ProviderRefusedException and a reason;"
                    + " it throws nothing else", ProviderConformance::initOrRefuse),
            new Promise<>("alloc-at-most-max", "allocNetmems fills 0..max entries, never more, and leaves the rest of the"
                    + " batch untouched", ProviderConformance::atMostMax),
            new Promise<>("alloc-never-throws", "allocNetmems says it has no memory by returning 0, never by throwing",
                    ProviderConformance::neverThrows),
            new Promise<>("pages-carved", "every page handed out is a handle a pool carved (PoolContext.carve), never one"
                    + " the provider made",
                    ProviderConformance::carvedByPool),
            new Promise<>("pages-distinct", "a page is handed out once until it is released", ProviderConformance::distinct),
            new Promise<>("page-shape", "pages have the pool's page size (orders 0 up to capabilities' maxOrder, up to"
                    + " 2); readable exactly when capabilities say so; readable memory is native, aligned and"
                    + " writable", ProviderConformance::pageShape),
            new Promise<>("dma-addresses", "DMA addresses are aligned to the page size and distinct among pages out",
                    ProviderConformance::dmaAddresses),
            new Promise<>("untouched-while-out", "the provider does not write into a page while the pool has it",
                    ProviderConformance::untouchedWhileOut),
            new Promise<>("release-concurrent", "releaseNetmem takes pages back from several threads while the NAPI thread"
                    + " allocates; every page comes back and can be handed out again", ProviderConformance::concurrent),
            new Promise<>("destroy-after-release", "destroy, once every page is back, returns; a new pool works after it",
                    ProviderConformance::destroyAfterRelease),
            new Promise<>("describe", "describe returns a map with non-null keys", ProviderConformance::describe),
            new Promise<>("contiguous", "a pool asking for contiguous pages (PoolParams.contiguousPages) gets at most that"
                    + " many, all within one range of that size, or is refused", ProviderConformance::contiguous),
            new Promise<>("within-budgets", "allocNetmems and releaseNetmem answer within 500 ms, init and destroy within"
                    + " 5 s (the engine counts a slower call as a fault)", ProviderConformance::withinBudgets));

    private ProviderConformance() {
    }

    /** The names of the promises, in the order they are checked. */
    public static List<String> promises() {
        return PROMISES.stream().map(Promise::name).toList();
    }

    /**
     * Checks every promise, each on a fresh provider from {@code fresh}.
     *
     * @return the report: {@link ConformanceReport#passed()}, and what each promise found
     */
    public static ConformanceReport check(Supplier<MemoryProvider> fresh) {
        String subject;
        try {
            subject = "provider '" + fresh.get().name() + "'";
        } catch (RuntimeException e) {
            subject = "a provider whose name() throws " + e;
        }
        List<Result> results = new ArrayList<>();
        for (Promise p : PROMISES) {
            results.add(run(p, fresh));
        }
        return new ConformanceReport(subject, results);
    }

    /** Every promise as a JUnit 5 dynamic test, named after it; a failure's message is the detail. */
    public static Stream<DynamicTest> tests(Supplier<MemoryProvider> fresh) {
        return Promises.tests(PROMISES, p -> run(p, fresh));
    }

    private static Result run(Promise<Supplier<MemoryProvider>> p, Supplier<MemoryProvider> fresh) {
        return Promises.run(p, () -> fresh, DEADLINE_MILLIS, "a provider call hangs");
    }

    // ---- a pool as the engine drives it ----------------------------------------------------------------

    /** One pool of one provider: init, allocations and releases, destroy, with the slowest call of each kind. */
    static final class Pool {
        private static final AtomicInteger IDS = new AtomicInteger();
        final MemoryProvider provider;
        final TckPoolContext ctx;
        final List<Netmem> out = new ArrayList<>();
        long slowestPageCall;
        long slowestPoolCall;

        Pool(MemoryProvider provider, PoolParams params) throws ProviderRefusedException {
            this.provider = provider;
            this.ctx = new TckPoolContext(IDS.incrementAndGet(), params);
            long t0 = System.nanoTime();
            provider.init(ctx);
            slowestPoolCall = System.nanoTime() - t0;
        }

        static Pool of(Supplier<MemoryProvider> fresh) throws Exception {
            try {
                return new Pool(fresh.get(), PoolParams.builder().build());
            } catch (ProviderRefusedException e) {
                throw new Skip("the provider refuses a plain pool of order 0: " + e.getMessage());
            }
        }

        /** Allocates up to {@code max} pages into {@link #out}; returns how many. */
        int alloc(int max) {
            Netmem[] batch = new Netmem[max];
            long t0 = System.nanoTime();
            int n = provider.allocNetmems(ctx, batch, max);
            slowestPageCall = Math.max(slowestPageCall, System.nanoTime() - t0);
            for (int i = 0; i < Math.min(n, max); i++) {
                out.add(batch[i]);
            }
            return n;
        }

        void releaseAll() {
            for (Netmem nm : out) {
                long t0 = System.nanoTime();
                provider.releaseNetmem(ctx, nm);
                slowestPageCall = Math.max(slowestPageCall, System.nanoTime() - t0);
            }
            out.clear();
        }

        void destroy() {
            long t0 = System.nanoTime();
            provider.destroy(ctx);
            slowestPoolCall = Math.max(slowestPoolCall, System.nanoTime() - t0);
        }
    }

    static String nm(Netmem n) {
        return n == null ? "null" : n.toString();
    }

    // ---- the checks ----------------------------------------------------------------------------------------

    private static String name(Supplier<MemoryProvider> fresh) {
        MemoryProvider p = fresh.get();
        String a = p.name();
        String b = p.name();
        if (a == null || a.isBlank()) {
            return "name() = '" + a + "' (expected: a non-blank name)";
        }
        return a.equals(b) ? null : "name() = '" + a + "', then '" + b + "' (expected: the same)";
    }

    private static String capabilities(Supplier<MemoryProvider> fresh) {
        MemoryProvider p = fresh.get();
        ProviderCapabilities a = p.capabilities();
        ProviderCapabilities b = p.capabilities();
        if (a == null) {
            return "capabilities() = null";
        }
        return a.equals(b) ? null : "capabilities() = " + a + ", then " + b + " (expected: the same)";
    }

    private static String initOrRefuse(Supplier<MemoryProvider> fresh) {
        MemoryProvider p = fresh.get();
        try {
            Pool pool = new Pool(p, PoolParams.builder().build());
            pool.destroy();
            return null;
        } catch (ProviderRefusedException e) {
            return e.getMessage() == null || e.getMessage().isBlank() ? "refused without a reason" : null;
        } catch (RuntimeException e) {
            return "init threw " + e + " (expected: ProviderRefusedException or nothing)";
        }
    }

    private static String atMostMax(Supplier<MemoryProvider> fresh) throws Exception {
        Pool pool = Pool.of(fresh);
        for (int max : new int[] {1, 3, 64}) {
            Netmem[] batch = new Netmem[max + 8];
            Object[] before = batch.clone();
            int n = pool.provider.allocNetmems(pool.ctx, batch, max);
            for (int i = 0; i < Math.min(n, batch.length); i++) {
                if (batch[i] != null) {
                    pool.out.add(batch[i]);
                }
            }
            if (n < 0 || n > max) {
                return "allocNetmems(max " + max + ") returned " + n + " (expected: 0.." + max + ")";
            }
            for (int i = 0; i < n; i++) {
                if (batch[i] == null) {
                    return "allocNetmems(max " + max + ") returned " + n + " but entry " + i + " is null";
                }
            }
            for (int i = n; i < batch.length; i++) {
                if (batch[i] != before[i]) {
                    return "allocNetmems(max " + max + ") returned " + n + " but wrote entry " + i + " (" + nm(batch[i])
                            + ")";
                }
            }
        }
        pool.releaseAll();
        pool.destroy();
        return null;
    }

    private static String neverThrows(Supplier<MemoryProvider> fresh) throws Exception {
        Pool pool = Pool.of(fresh);
        int total = 0;
        while (total < MAX_PAGES) {
            int n;
            try {
                n = pool.alloc(64);
            } catch (RuntimeException e) {
                return "allocNetmems threw " + e + " after " + total + " pages (expected: 0 when out of memory)";
            }
            if (n == 0) {
                break;
            }
            total += n;
        }
        pool.releaseAll();
        pool.destroy();
        return null;
    }

    private static String carvedByPool(Supplier<MemoryProvider> fresh) throws Exception {
        Pool pool = Pool.of(fresh);
        pool.alloc(64);
        for (Netmem n : pool.out) {
            if (!TckPoolContext.carvedByKit(n)) {
                return "page " + nm(n) + " (" + n.getClass().getName() + ") was not carved by a pool (expected:"
                        + " PoolContext.carve of the provider's own areas)";
            }
        }
        pool.releaseAll();
        pool.destroy();
        return null;
    }

    private static String distinct(Supplier<MemoryProvider> fresh) throws Exception {
        Pool pool = Pool.of(fresh);
        Set<Netmem> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int round = 0; round < 8; round++) {
            int before = pool.out.size();
            if (pool.alloc(64) == 0) {
                break;
            }
            for (int i = before; i < pool.out.size(); i++) {
                Netmem n = pool.out.get(i);
                if (!seen.add(n)) {
                    pool.out.remove(i); // handed out twice: give it back once
                    return "page " + nm(n) + " handed out again while out (after " + before + " pages)";
                }
            }
        }
        pool.releaseAll();
        pool.destroy();
        return null;
    }

    private static String pageShape(Supplier<MemoryProvider> fresh) throws Exception {
        MemoryProvider p = fresh.get();
        ProviderCapabilities caps = p.capabilities();
        for (int order = 0; order <= Math.min(2, caps.maxOrder()); order++) {
            Pool pool;
            try {
                pool = new Pool(p, PoolParams.builder().order(order).build());
            } catch (ProviderRefusedException e) {
                continue; // an order it does not serve, said so
            }
            int size = 4096 << order;
            pool.alloc(16);
            for (Netmem n : pool.out) {
                MemoryArea a = n.area();
                if (a.pageSize() != size) {
                    return "order " + order + ": page " + nm(n) + " of " + a.pageSize() + " bytes (expected: " + size + ")";
                }
                if (a.isReadable() != caps.readable()) {
                    return "page " + nm(n) + " is " + (a.isReadable() ? "readable" : "unreadable") + " but capabilities"
                            + " say readable=" + caps.readable();
                }
                if (a.isReadable()) {
                    MemorySegment m = a.memory();
                    long at = m.address() + ((long) n.index() << a.pageShift());
                    if (!m.isNative() || (at & (size - 1)) != 0) {
                        return "page " + nm(n) + " at 0x" + Long.toHexString(at) + (m.isNative() ? " not aligned to "
                                + size : " is not native memory");
                    }
                    MemorySegment page = m.asSlice((long) n.index() << a.pageShift(), size);
                    page.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x5a);
                    page.set(ValueLayout.JAVA_BYTE, size - 1, (byte) 0xa5);
                }
            }
            pool.releaseAll();
            pool.destroy();
        }
        return null;
    }

    private static String dmaAddresses(Supplier<MemoryProvider> fresh) throws Exception {
        Pool pool = Pool.of(fresh);
        pool.alloc(64);
        pool.alloc(64);
        Map<Long, Netmem> seen = new java.util.HashMap<>();
        for (Netmem n : pool.out) {
            long dma = n.dmaAddress();
            if ((dma & (n.area().pageSize() - 1)) != 0) {
                return "page " + nm(n) + " has DMA address 0x" + Long.toHexString(dma) + " (expected: aligned to "
                        + n.area().pageSize() + ")";
            }
            Netmem other = seen.put(dma, n);
            if (other != null) {
                return "pages " + nm(other) + " and " + nm(n) + " share DMA address 0x" + Long.toHexString(dma);
            }
        }
        pool.releaseAll();
        pool.destroy();
        return null;
    }

    private static String untouchedWhileOut(Supplier<MemoryProvider> fresh) throws Exception {
        Pool pool = Pool.of(fresh);
        if (!pool.provider.capabilities().readable()) {
            pool.destroy();
            throw new Skip("unreadable memory: the kit cannot look into it");
        }
        // Cycle pages through the provider so it has released pages to reuse, then hold a batch.
        for (int round = 0; round < 4; round++) {
            pool.alloc(32);
            pool.releaseAll();
        }
        pool.alloc(32);
        List<Netmem> held = List.copyOf(pool.out);
        pool.out.clear();
        for (int i = 0; i < held.size(); i++) {
            page(held.get(i)).fill((byte) (0x40 + i));
        }
        for (int round = 0; round < 4; round++) { // more calls while the batch is held
            pool.alloc(32);
            pool.releaseAll();
        }
        String broken = null;
        for (int i = 0; i < held.size() && broken == null; i++) {
            MemorySegment p = page(held.get(i));
            for (long at = 0; at < p.byteSize(); at += 512) {
                byte b = p.get(ValueLayout.JAVA_BYTE, at);
                if (b != (byte) (0x40 + i)) {
                    broken = "page " + nm(held.get(i)) + " held by the pool changed at byte " + at + ": 0x"
                            + Integer.toHexString(b & 0xff) + " (expected: 0x" + Integer.toHexString(0x40 + i)
                            + ", what the pool wrote)";
                    break;
                }
            }
        }
        pool.out.addAll(held);
        pool.releaseAll();
        pool.destroy();
        return broken;
    }

    static MemorySegment page(Netmem n) {
        MemoryArea a = n.area();
        return a.memory().asSlice((long) n.index() << a.pageShift(), a.pageSize());
    }

    private static String concurrent(Supplier<MemoryProvider> fresh) throws Exception {
        Pool pool = Pool.of(fresh);
        ConcurrentLinkedQueue<Netmem> toRelease = new ConcurrentLinkedQueue<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        AtomicInteger released = new AtomicInteger();
        int rounds = 200;
        CountDownLatch done = new CountDownLatch(3);
        java.util.concurrent.atomic.AtomicBoolean allocating = new java.util.concurrent.atomic.AtomicBoolean(true);
        for (int t = 0; t < 3; t++) {
            Thread r = new Thread(() -> {
                try {
                    while (allocating.get() || !toRelease.isEmpty()) {
                        Netmem n = toRelease.poll();
                        if (n == null) {
                            Thread.onSpinWait();
                            continue;
                        }
                        pool.provider.releaseNetmem(pool.ctx, n);
                        released.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failed.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            });
            r.setDaemon(true);
            r.start();
        }
        int handed = 0;
        Set<Netmem> out = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
        String broken = null;
        try {
            Netmem[] batch = new Netmem[16];
            for (int i = 0; i < rounds && broken == null; i++) {
                int n = pool.provider.allocNetmems(pool.ctx, batch, 16);
                for (int k = 0; k < n; k++) {
                    handed++;
                    out.add(batch[k]);
                    toRelease.add(batch[k]);
                }
            }
        } finally {
            allocating.set(false);
        }
        if (!done.await(10, TimeUnit.SECONDS)) {
            return "releases from other threads did not finish in 10 s";
        }
        if (failed.get() != null) {
            return "releaseNetmem threw " + failed.get() + " on another thread";
        }
        if (released.get() != handed) {
            return handed + " pages handed out, " + released.get() + " released";
        }
        int again = pool.alloc(16);
        pool.releaseAll();
        pool.destroy();
        return handed > 0 && again == 0 ? "after " + handed + " pages came back, allocNetmems gave none" : broken;
    }

    private static String destroyAfterRelease(Supplier<MemoryProvider> fresh) throws Exception {
        Pool pool = Pool.of(fresh);
        pool.alloc(64);
        pool.releaseAll();
        pool.destroy();
        Pool next = new Pool(pool.provider, PoolParams.builder().build());
        int n = next.alloc(8);
        next.releaseAll();
        next.destroy();
        return n == 0 ? "a new pool after a destroy got no page" : null;
    }

    private static String describe(Supplier<MemoryProvider> fresh) throws Exception {
        Pool pool = Pool.of(fresh);
        pool.alloc(8);
        Map<String, Object> d = pool.provider.describe(pool.ctx);
        pool.releaseAll();
        pool.destroy();
        if (d == null) {
            return "describe returned null (expected: a map, empty if nothing to say)";
        }
        for (String k : d.keySet()) {
            if (k == null) {
                return "describe has a null key: " + d;
            }
        }
        return null;
    }

    private static String contiguous(Supplier<MemoryProvider> fresh) throws Exception {
        MemoryProvider p = fresh.get();
        int pages = 256;
        Pool pool;
        try {
            pool = new Pool(p, PoolParams.builder().contiguousPages(pages).build());
        } catch (ProviderRefusedException e) {
            throw new Skip("refuses contiguous pools: " + e.getMessage());
        }
        int total = 0;
        while (total <= pages) {
            int n = pool.alloc(64);
            if (n == 0) {
                break;
            }
            total += n;
        }
        String broken = null;
        if (total > pages) {
            broken = "gave " + total + " pages (expected: at most " + pages + ")";
        } else if (p.capabilities().readable()) {
            long lo = Long.MAX_VALUE;
            long hi = Long.MIN_VALUE;
            for (Netmem n : pool.out) {
                long at = n.area().memory().address() + ((long) n.index() << n.area().pageShift());
                lo = Math.min(lo, at);
                hi = Math.max(hi, at + n.area().pageSize());
            }
            if (total > 0 && hi - lo > (long) pages * 4096) {
                broken = total + " pages spread over " + (hi - lo) + " bytes (expected: one range of at most "
                        + (long) pages * 4096 + ")";
            }
        }
        pool.releaseAll();
        pool.destroy();
        return broken;
    }

    private static String withinBudgets(Supplier<MemoryProvider> fresh) throws Exception {
        Pool pool = Pool.of(fresh);
        for (int i = 0; i < 16; i++) {
            pool.alloc(64);
        }
        pool.releaseAll();
        pool.destroy();
        long page = pool.slowestPageCall / 1_000_000;
        long poolCall = pool.slowestPoolCall / 1_000_000;
        if (page > PAGE_CALL_MILLIS) {
            return "a page call took " + page + " ms (expected: within " + PAGE_CALL_MILLIS + " ms)";
        }
        return poolCall > POOL_CALL_MILLIS ? "a pool call took " + poolCall + " ms (expected: within " + POOL_CALL_MILLIS
                + " ms)" : null;
    }
}

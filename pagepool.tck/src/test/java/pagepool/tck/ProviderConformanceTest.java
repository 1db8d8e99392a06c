package pagepool.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;
import pagepool.api.testing.TestProvider;
import pagepool.provider.heap.HeapMemoryProvider;
import pagepool.provider.hugepage.HugePageProvider;

/** Our providers keep every promise; broken ones fail the promises they break, by name. */
class ProviderConformanceTest {

    private final List<HugePageProvider> mapped = new ArrayList<>();

    @AfterEach
    void unmap() {
        mapped.forEach(HugePageProvider::deactivate);
    }

    private HugePageProvider huge() {
        HugePageProvider p = new HugePageProvider(8, 2L << 20, true, false);
        mapped.add(p);
        return p;
    }

    static ConformanceReport checked(Supplier<MemoryProvider> fresh) {
        ConformanceReport r = ProviderConformance.check(fresh);
        System.out.println(r);
        return r;
    }

    @Test
    void theHeapProviderKeepsEveryPromise() {
        ConformanceReport r = checked(() -> new HeapMemoryProvider(1L << 30));
        assertTrue(r.passed(), r::toString);
        assertEquals(ConformanceReport.Verdict.PASS, r.result("contiguous").verdict(), r::toString);
    }

    @Test
    void theHugePageProviderKeepsEveryPromise() {
        ConformanceReport r = checked(this::huge);
        assertTrue(r.passed(), r::toString);
    }

    @Test
    void theTestProviderKeepsEveryPromise() {
        ConformanceReport r = checked(() -> new TestProvider("testmem"));
        assertTrue(r.passed(), r::toString);
    }

    @TestFactory
    Stream<DynamicTest> aVendorRunsTheKitAsDynamicTests() {
        return ProviderConformance.tests(() -> new HeapMemoryProvider(1L << 30));
    }

    @Test
    void aProviderWhoseAllocThrowsFailsAllocNeverThrows() {
        ConformanceReport r = checked(() -> new TestProvider("faultmem").failing(TestProvider.Call.ALLOC,
                () -> new IllegalStateException("injected")));
        assertTrue(r.failed().contains("alloc-never-throws"), r::toString);
        assertTrue(r.result("alloc-never-throws").detail().contains("java.lang.IllegalStateException: injected"),
                r::toString);
    }

    @Test
    void aProviderThatGivesMoreThanAskedFailsAllocAtMostMax() {
        ConformanceReport r = checked(() -> new Delegate(new TestProvider("greedy")) {
            @Override
            public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
                int n = inner.allocNetmems(pool, batch, Math.min(max + 1, batch.length));
                return n;
            }
        });
        assertEquals(List.of("alloc-at-most-max"), r.failed().stream().filter(p -> p.startsWith("alloc")).toList(),
                r::toString);
        assertTrue(r.result("alloc-at-most-max").detail().startsWith("allocNetmems(max 1) returned 2 (expected: 0..1)"),
                r::toString);
    }

    @Test
    void aProviderThatKeepsUsingReleasedPagesFailsUntouchedWhileOut() {
        ConformanceReport r = checked(() -> new Delegate(new TestProvider("scribbler")) {
            private final List<Netmem> released = new ArrayList<>();

            @Override
            public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
                synchronized (released) { // still writing into pages it was given back, now the pool's again
                    for (Netmem n : released) {
                        MemorySegment m = n.area().memory();
                        m.asSlice((long) n.index() << n.area().pageShift(), 8).fill((byte) 0);
                    }
                }
                return inner.allocNetmems(pool, batch, max);
            }

            @Override
            public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
                synchronized (released) {
                    released.add(netmem);
                }
                return inner.releaseNetmem(pool, netmem);
            }
        });
        assertTrue(r.failed().contains("untouched-while-out"), r::toString);
        assertTrue(r.result("untouched-while-out").detail().contains("changed at byte 0: 0x0"), r::toString);
    }

    @Test
    void aProviderThatIgnoresContiguityFailsContiguous() {
        ConformanceReport r = checked(() -> new TestProvider("liar").ignoresContiguity(true));
        assertEquals(List.of("contiguous"), r.failed(), r::toString);
        assertTrue(r.result("contiguous").detail().contains("gave 320 pages (expected: at most 256)")
                || r.result("contiguous").detail().contains("spread over"), r::toString);
    }

    @Test
    void aProviderThatMakesItsOwnHandlesFailsPagesCarved() {
        ConformanceReport r = checked(() -> new Delegate(new TestProvider("forger")) {
            @Override
            public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
                int n = inner.allocNetmems(pool, batch, max);
                if (n > 0) { // a handle of its own over a page the pool did carve
                    batch[0] = new Netmem(batch[0].area(), batch[0].index()) { };
                }
                return n;
            }
        });
        assertTrue(r.failed().contains("pages-carved"), r::toString);
        assertTrue(r.result("pages-carved").detail().contains("was not carved by a pool"), r::toString);
    }

    @Test
    void theKitLooksAtTheProcessMapsBeforeItReadsAPageAfterItsBundleStopped() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment page = arena.allocate(4096, 4096);
            assertTrue(ProviderBundleConformance.mapped(page.address(), 4096));
        }
        assertFalse(ProviderBundleConformance.mapped(4096, 4096), "the second page of the address space is never mapped");
    }

    @Test
    void aSlowButAnsweringDescribeKeepsItsPromise() {
        ConformanceReport.Result r = ProviderConformance.check(
                () -> new TestProvider("slowmem").failing(TestProvider.Call.DESCRIBE, () -> {
                    try {
                        Thread.sleep(600);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return null;
                })).result("describe");
        assertEquals(ConformanceReport.Verdict.PASS, r.verdict(), "slow but answering is no broken promise of describe");
    }

    /** A provider that forwards to another: the base of the broken ones. */
    abstract static class Delegate implements MemoryProvider {
        final MemoryProvider inner;

        Delegate(MemoryProvider inner) {
            this.inner = inner;
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public ProviderCapabilities capabilities() {
            return inner.capabilities();
        }

        @Override
        public void init(PoolContext pool) throws ProviderRefusedException {
            inner.init(pool);
        }

        @Override
        public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
            return inner.allocNetmems(pool, batch, max);
        }

        @Override
        public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
            return inner.releaseNetmem(pool, netmem);
        }

        @Override
        public void destroy(PoolContext pool) {
            inner.destroy(pool);
        }

        @Override
        public Map<String, Object> describe(PoolContext pool) {
            return inner.describe(pool);
        }
    }
}

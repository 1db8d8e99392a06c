package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import pagepool.api.BadReleaseException;
import pagepool.api.Frag;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.testing.TestProvider;

/**
 * A pool whose provider throws: every call into the provider is guarded, counted per pool and
 * per provider, and the pool's accounting stays whole whatever the provider does.
 */
class PoolGuardTest {

    private final PoolRegistry pools = new PoolRegistry(5, 60_000);
    private final TestProvider provider = new TestProvider("faulty");

    @AfterEach
    void closePools() {
        pools.close();
    }

    private PagePool pool() {
        return pools.create(PoolParams.builder().queue("eth0", 1).build(), provider);
    }

    @Test
    void anAllocationThatThrowsGivesNothingAndThePoolAsksNoMore() {
        PagePool pool = pool();
        provider.failing(TestProvider.Call.ALLOC, () -> new OutOfMemoryError("slab"));
        assertNull(pool.alloc(), "no page, no exception: the driver counts an allocation failure");
        assertNull(pool.alloc());
        assertEquals(1, provider.thrown.get(), "asked once: a provider that failed is not asked again");
        PoolInfo info = pool.info();
        assertEquals(1, info.faults().alloc());
        assertEquals("allocNetmems threw OutOfMemoryError: slab", info.faults().last());
        pool.close();
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state());
    }

    @Test
    void aReleaseThatThrowsStillReturnsThePageSoThePoolCanDrainAndDestroy() {
        PagePool pool = pool();
        List<Netmem> out = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            out.add(pool.alloc());
        }
        provider.failing(TestProvider.Call.RELEASE, () -> new IllegalStateException("refused"));
        pool.close();
        assertEquals(PoolInfo.State.DETACHED, pool.info().state());
        Thread other = new Thread(() -> out.forEach(pool::release), "socket");
        other.start();
        assertTrue(join(other), "the releasing thread survives");
        PoolInfo info = pool.info();
        assertEquals(PoolInfo.State.DESTROYED, info.state(), "release_count reached hold_count");
        assertEquals(info.holdCount(), info.releaseCount());
        assertEquals(0, info.inflight());
        assertEquals(info.holdCount(), info.faults().release(), "every release to the provider threw, and counted");
        assertEquals(1, provider.destroys.get());
        assertEquals(0, provider.pagesOut.get(), "the provider got every page back before it threw");
    }

    @Test
    void aCloseDrainsCacheAndRingInBatchesAndEveryPageComesBackThoughSomeReleasesThrow() {
        PagePool pool = pool();
        List<Netmem> out = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            out.add(pool.alloc());
        }
        out.subList(0, 100).forEach(pool::recycleDirect); // into the NAPI cache
        Thread socket = new Thread(() -> out.subList(100, 300).forEach(pool::release), "socket"); // into the ring
        socket.start();
        assertTrue(join(socket));
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        provider.failing(TestProvider.Call.RELEASE, () -> calls.incrementAndGet() % 3 == 0
                ? new IllegalStateException("refused") : null);

        pool.close();

        PoolInfo info = pool.info();
        assertEquals(PoolInfo.State.DESTROYED, info.state(), "every page back: the pool is destroyed at once");
        assertEquals(info.holdCount(), info.releaseCount());
        assertEquals(0, info.inflight());
        assertTrue(calls.get() >= 300, "each page given back on its own: " + calls.get());
        assertEquals(calls.get() / 3, info.faults().release(), "each release that threw counted, the others not");
        assertEquals(0, provider.pagesOut.get(), "the provider got every page");
    }

    private static boolean join(Thread t) {
        try {
            t.join(10_000);
            return !t.isAlive();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aDestroyThatThrowsStillEndsThePool() {
        PagePool pool = pool();
        Netmem nm = pool.alloc();
        pool.recycleDirect(nm);
        provider.failing(TestProvider.Call.DESTROY, () -> new AssertionError("leak"));
        pool.close();
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state());
        assertTrue(pools.pools().isEmpty(), "gone from the engine");
        assertEquals(1, pool.info().faults().destroy());
    }

    @Test
    void aDescribeThatThrowsIsShownAndCounted() {
        PagePool pool = pool();
        provider.failing(TestProvider.Call.DESCRIBE, () -> new NullPointerException());
        PoolInfo info = pool.info();
        assertEquals(Map.of("error", "describe threw NullPointerException"), info.providerInfo());
        assertEquals(1, info.faults().other());
        pool.close();
    }

    @Test
    void aProviderThatHandsOutWhatIsNotItsToGiveIsCaught() {
        MemoryProvider liar = new MemoryProvider() {
            private final TestProvider real = new TestProvider("liar");

            @Override
            public String name() {
                return "liar";
            }

            @Override
            public ProviderCapabilities capabilities() {
                return ProviderCapabilities.hostPages();
            }

            @Override
            public void init(PoolContext pool) throws pagepool.api.provider.ProviderRefusedException {
                real.init(pool);
            }

            @Override
            public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
                int n = real.allocNetmems(pool, batch, max);
                batch[n - 1] = new Netmem(batch[0].area(), 0) { }; // not carved by the pool
                return n + 5; // and more than it was asked for
            }

            @Override
            public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
                return real.releaseNetmem(pool, netmem);
            }

            @Override
            public void destroy(PoolContext pool) {
            }

            @Override
            public Map<String, Object> describe(PoolContext pool) {
                return Map.of();
            }
        };
        PagePool pool = pools.create(PoolParams.builder().build(), liar);
        List<Netmem> got = new ArrayList<>();
        for (Netmem nm; (nm = pool.alloc()) != null;) {
            got.add(nm);
        }
        assertEquals(63, got.size(), "the good pages of the batch, then nothing more");
        assertEquals(2, pool.info().faults().alloc(), "the count and the foreign netmem");
        got.forEach(pool::recycleDirect);
        pool.close();
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state());
    }

    @Test
    void aPageHandedOutAgainAfterItsProviderLetItGoIsRefused() {
        TestProvider forgetful = new TestProvider("forgetful") {
            @Override
            public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
                super.releaseNetmem(pool, netmem); // keeps it on its free list,
                return true; // but says it let it go for good
            }
        }.memoryLimit(1).recyclable(false);
        PagePool pool = pools.create(PoolParams.builder().build(), forgetful);
        pool.recycleDirect(pool.alloc()); // not recyclable: straight back to the provider, which lets it go

        assertNull(pool.alloc(), "the same page again is refused");
        PoolInfo info = pool.info();
        assertEquals(1, info.faults().alloc());
        assertTrue(info.faults().last().contains("after releaseNetmem let it go (returned true)"), info.faults().last());
        pool.close();
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state());
    }

    @Test
    void aFragmentReleasedTwiceWhileItsPageIsCutIsRefusedOnTheNapiThread() {
        PagePool pool = pool();
        Frag a = new Frag();
        Frag b = new Frag();
        pool.allocFrag(100, a);
        pool.allocFrag(100, b);
        pool.recycleDirect(a.netmem());
        pool.recycleDirect(b.netmem());
        BadReleaseException e = assertThrows(BadReleaseException.class, () -> pool.recycleDirect(a.netmem()));
        assertTrue(e.getMessage().contains("more often than it was cut: 2 fragments handed out"), e.getMessage());
        assertEquals(1, pool.info().badReleases());
        pool.close();
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state(), "nothing leaked");
    }

    @Test
    void aFragmentReleasedTwiceFromAnotherThreadIsFoundWhenThePageIsFinished() throws InterruptedException {
        PagePool pool = pool();
        Frag a = new Frag();
        pool.allocFrag(100, a);
        Netmem page = a.netmem();
        Thread socket = new Thread(() -> {
            pool.release(page);
            pool.release(page); // the bug: while the page is still being cut, the count cannot tell
        });
        socket.start();
        socket.join();
        pool.close(); // finishing the page finds one release too many
        PoolInfo info = pool.info();
        assertEquals(1, info.badReleases());
        assertEquals(PoolInfo.State.DESTROYED, info.state(), "the page was freed, not leaked: inflight 0");
        assertEquals(0, info.inflight());
    }

    /** A provider that lies: it answers -5 pages, sets its caller's interrupt flag, describes hostile values. */
    private static final class LyingProvider extends TestProvider {
        volatile int answer = Integer.MIN_VALUE;
        volatile boolean interrupts;

        LyingProvider() {
            super("liar");
        }

        @Override
        public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
            if (interrupts) {
                Thread.currentThread().interrupt();
            }
            return answer != Integer.MIN_VALUE ? answer : super.allocNetmems(pool, batch, max);
        }

        @Override
        public Map<String, Object> describe(PoolContext pool) {
            Map<String, Object> m = new java.util.HashMap<>();
            m.put("bomb", new Object() {
                @Override
                public String toString() {
                    throw new IllegalStateException("toString bomb");
                }
            });
            m.put("nan", Double.NaN);
            m.put("number", new java.util.concurrent.atomic.AtomicLong(7) {
                @Override
                public String toString() {
                    return "1,\"injected\":true";
                }
            });
            m.put("escape\u001b[31m", "red\nline\u0007");
            m.put("long", "x".repeat(10_000));
            m.put("pages", 12);
            return m;
        }
    }

    @Test
    void aNegativeCountFromAllocNetmemsIsAFault() {
        LyingProvider liar = new LyingProvider();
        liar.answer = -5;
        PagePool pool = pools.create(PoolParams.builder().queue("eth0", 1).build(), liar);
        assertNull(pool.alloc());
        assertEquals(1, pool.info().faults().alloc());
        assertEquals("allocNetmems returned -5 (expected: 0..64)", pool.info().faults().last());
        pool.close();
    }

    @Test
    void theCallersInterruptFlagIsAsBeforeTheCallAndSettingItIsAFault() {
        LyingProvider liar = new LyingProvider();
        liar.interrupts = true;
        PagePool pool = pools.create(PoolParams.builder().queue("eth0", 1).build(), liar);
        Netmem nm = pool.alloc();
        assertTrue(nm != null, "the pages it gave are taken");
        assertTrue(!Thread.currentThread().isInterrupted(), "the flag is cleared again");
        assertEquals(1, pool.info().faults().alloc());
        assertEquals("allocNetmems left the calling thread interrupted (expected: its flag untouched)",
                pool.info().faults().last());
        pool.recycleDirect(nm);
        // A flag that was set before the call is left set.
        liar.interrupts = false;
        Thread.currentThread().interrupt();
        PagePool other = pools.create(PoolParams.builder().queue("eth0", 2).build(), liar);
        Netmem again = other.alloc();
        assertTrue(Thread.interrupted(), "the caller's own interrupt survives the call");
        other.recycleDirect(again);
        pool.close();
        other.close();
    }

    @Test
    void whatAProviderDescribesIsKeptAsPlainData() {
        PagePool pool = pools.create(PoolParams.builder().queue("eth0", 1).build(), new LyingProvider());
        Map<String, Object> info = pool.info().providerInfo();
        assertTrue(info.get("bomb").toString().startsWith("(a pagepool.engine.PoolGuardTest$LyingProvider$"),
                "named by its class, never printed: " + info.get("bomb"));
        assertEquals("NaN", info.get("nan"));
        assertTrue(info.get("number").toString().startsWith("(a pagepool.engine.PoolGuardTest$LyingProvider$"),
                "a Number of its own is not trusted to print itself: " + info.get("number"));
        assertEquals("red?line?", info.get("escape?[31m"));
        assertEquals(ProviderInfoValues.MAX_TEXT + 3, info.get("long").toString().length());
        assertEquals(12L, info.get("pages"));
        assertEquals(0, pool.info().faults().total(), "odd values are rendered, not charged");
        pool.close();
    }

    /**
     * A provider that carves its pages as unreadable memory without the device's view of them,
     * whatever its capabilities say: a lie when it declares readable memory, a blind spot when not.
     */
    private static final class CarvesUnreadableWithoutView extends TestProvider {
        private final String area;

        CarvesUnreadableWithoutView(String name, ProviderCapabilities caps) {
            super(name, caps);
            this.area = name;
        }

        @Override
        public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
            Netmem[] carved = pool.carve(pagepool.api.MemoryArea.unreadable(area, 1L << 40, 4096L * max).build());
            System.arraycopy(carved, 0, batch, 0, max);
            return max;
        }
    }

    @Test
    void aReadableProviderThatCarvesUnreadableMemoryIsRefusedAndCharged() {
        PagePool pool = pools.create(PoolParams.builder().queue("eth0", 1).build(),
                new CarvesUnreadableWithoutView("disguised", ProviderCapabilities.hostPages()));
        assertNull(pool.alloc(), "no page: the carve was refused");
        assertEquals(1, pool.info().faults().alloc());
        assertTrue(pool.info().faults().last().startsWith("allocNetmems threw IllegalArgumentException: area:"
                + " MemoryArea[disguised"), pool.info().faults().last());
        assertTrue(pool.info().faults().last().endsWith("is unreadable (expected: readable memory, as provider"
                + " 'disguised' declares in its capabilities)"), pool.info().faults().last());
        pool.close();
    }

    @Test
    void anUnreadableAreaWithoutADeviceViewIsRefusedAtTheCarveAndCharged() {
        PagePool pool = pools.create(PoolParams.builder().queue("eth0", 1).flags(PoolParams.ALLOW_UNREADABLE_NETMEM).build(),
                new CarvesUnreadableWithoutView("blind", new ProviderCapabilities(false, 0, false, false)));
        assertNull(pool.alloc(), "no page: nobody could reach its bytes");
        assertEquals(1, pool.info().faults().alloc());
        assertTrue(pool.info().faults().last().endsWith("is unreadable and has no device view (expected: a readable"
                + " area, or carve(area, deviceMemory) for device memory)"), pool.info().faults().last());
        pool.close();
    }

    @Test
    void aPoolIsNotItsProvidersContextAndTheContextIsNotThePool() {
        PoolContext[] seen = new PoolContext[1];
        TestProvider spy = new TestProvider("spy") {
            @Override
            public void init(PoolContext pool) throws pagepool.api.provider.ProviderRefusedException {
                seen[0] = pool;
                super.init(pool);
            }
        };
        PagePool pool = pools.create(PoolParams.builder().queue("eth0", 1).build(), spy);
        assertTrue(!(pool instanceof PoolContext), "a caller cannot act as the provider by a cast");
        assertTrue(!(seen[0] instanceof PagePool), "a provider cannot take pages from the pool's cache by a cast");
        assertEquals(pool.id(), seen[0].id());
        assertTrue(pool.alloc() != null);
        assertEquals(0, pool.info().faults().total());
        pool.close();
    }
    @Test
    void aCallersBadHostRangeForADeviceCopyIsTheCallersFaultNotTheProviders() {
        TestProvider device = new TestProvider("device", new ProviderCapabilities(false, 0, false, false));
        PagePool pool = pools.create(PoolParams.builder().queue("eth0", 1).flags(PoolParams.ALLOW_UNREADABLE_NETMEM)
                .build(), device);
        Netmem page = pool.alloc();
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment src = arena.allocate(100);
            assertEquals("srcOffset: 90 (expected: 0..36, so 64 bytes fit in the segment of 100)",
                    assertThrows(IllegalArgumentException.class, () -> pool.deviceWrite(page, 0, src, 90, 64))
                            .getMessage());
            assertEquals("srcOffset: -1 (expected: 0..36, so 64 bytes fit in the segment of 100)",
                    assertThrows(IllegalArgumentException.class, () -> pool.deviceWrite(page, 0, src, -1, 64))
                            .getMessage());
            assertEquals("dst: null (expected: a memory segment)", assertThrows(IllegalArgumentException.class,
                    () -> pool.deviceRead(page, 0, null, 0, 64)).getMessage());
            assertEquals("dst: a read-only segment (expected: a writable segment to read into)",
                    assertThrows(IllegalArgumentException.class,
                            () -> pool.deviceRead(page, 0, src.asReadOnly(), 0, 64)).getMessage());
            assertEquals(0, pool.info().faults().total(), "nothing charged to the provider");
            assertTrue(pool.deviceWrite(page, 0, src, 36, 64), "a good copy still works");
        }
        pool.release(page);
        pool.close();
    }
}

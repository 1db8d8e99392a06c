package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.api.PoolStats;
import pagepool.api.testing.TestProvider;

/** Each page-pool stat, driven along the path it counts, with its value predicted. */
class PagePoolStatsTest {

    private final PoolRegistry pools = new PoolRegistry(10, 60_000);
    private final TestProvider provider = new TestProvider("test");

    @AfterEach
    void closePools() {
        pools.close();
    }

    private PagePool pool(PoolParams.Builder b) {
        return pools.create(b.queue("eth0", 0).build(), provider);
    }

    private static List<Netmem> alloc(PagePool pool, int n) {
        List<Netmem> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(assertNotNullReturn(pool.alloc()));
        }
        return out;
    }

    private static Netmem assertNotNullReturn(Netmem nm) {
        assertNotNull(nm, "alloc");
        return nm;
    }

    @Test
    void slowPathTakesOneBulkThenFastPathServesFromCache() {
        PagePool pool = pool(PoolParams.builder());
        alloc(pool, 1);
        assertEquals(new PoolStats(0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0), pool.stats());
        assertEquals(64, pool.info().holdCount(), "one bulk of 64 pages");
        alloc(pool, 63);
        assertEquals(63, pool.stats().allocFast());
        alloc(pool, 1);
        PoolStats s = pool.stats();
        assertEquals(2, s.allocSlow(), "cache and ring empty: second bulk");
        assertEquals(2, s.allocEmpty());
        assertEquals(128, pool.info().holdCount());
    }

    @Test
    void highOrderPagesComeOneBySlowHighOrder() {
        PagePool pool = pool(PoolParams.builder().order(2));
        Netmem nm = pool.alloc();
        assertEquals(16384, nm.size());
        alloc(pool, 2);
        PoolStats s = pool.stats();
        assertEquals(3, s.allocSlowHighOrder());
        assertEquals(0, s.allocSlow());
        assertEquals(3, pool.info().holdCount());
    }

    @Test
    void directRecycleFillsCacheThenOverflowsIntoRing() {
        PagePool pool = pool(PoolParams.builder());
        List<Netmem> pages = alloc(pool, 130);
        pages.forEach(pool::recycleDirect);
        PoolStats s = pool.stats();
        // 130 allocated: 2 bulks of 64 and 2 pages of a third; the cache holds the other 62.
        assertEquals(128 - 62, s.recycleCached(), "cache fills to 128");
        assertEquals(130 - 66, s.recycleCacheFull());
        assertEquals(130 - 66, s.recycleRing());
        assertEquals(0, s.recycleRingFull());
    }

    @Test
    void releaseFromAnotherThreadGoesToRingAndRefillsCache() throws InterruptedException {
        PagePool pool = pool(PoolParams.builder());
        List<Netmem> pages = alloc(pool, 64);
        StackThread.release(pool, pages);
        assertEquals(64, pool.stats().recycleRing());
        assertEquals(0, pool.stats().recycleCached());
        Netmem again = pool.alloc();
        PoolStats s = pool.stats();
        assertEquals(1, s.allocRefill(), "one refill moves up to 64 pages");
        assertEquals(1, s.allocSlow(), "no new bulk");
        // The refill takes the ring in order and hands out the last page it took, as the kernel does.
        assertSame(pages.get(63), again);
        alloc(pool, 63);
        assertEquals(63 + 63, pool.stats().allocFast(), "63 from the first bulk, 63 from the refill");
        assertEquals(64, pool.info().holdCount());
    }

    @Test
    void fullRingSendsPagesBackToProvider() throws InterruptedException {
        PagePool pool = pool(PoolParams.builder().poolSize(16));
        List<Netmem> pages = alloc(pool, 20);
        StackThread.release(pool, pages);
        PoolStats s = pool.stats();
        assertEquals(16, s.recycleRing());
        assertEquals(4, s.recycleRingFull());
        assertEquals(4, pool.info().releaseCount());
        assertEquals(4, provider.pagesReturned.get());
    }

    @Test
    void pageFromAnotherNodeIsWaivedOnRefill() throws InterruptedException {
        PagePool pool = pool(PoolParams.builder().nid(0));
        List<Netmem> pages = alloc(pool, 64);
        StackThread.release(pool, pages);
        pool.nidChanged(1);
        provider.node(1);
        assertNotNull(pool.alloc());
        PoolStats s = pool.stats();
        assertEquals(1, s.allocWaive(), "first ring page is on node 0: waived");
        assertEquals(0, s.allocRefill());
        assertEquals(2, s.allocSlow(), "then a fresh bulk from the provider");
        assertEquals(1, pool.info().releaseCount());
        assertEquals(2 * 64, pool.info().holdCount(), "a second bulk came from the provider");
    }

    @Test
    void unrecyclablePagesAreReleasedToProvider() {
        provider.recyclable(false);
        PagePool pool = pool(PoolParams.builder());
        List<Netmem> pages = alloc(pool, 3);
        pages.forEach(pool::recycleDirect);
        PoolStats s = pool.stats();
        assertEquals(3, s.recycleReleasedRefcnt());
        assertEquals(0, s.recycleCached());
        assertEquals(3, pool.info().releaseCount());
    }

    @Test
    void providerWithNoMemoryMakesAllocReturnNull() {
        provider.memoryLimit(2);
        PagePool pool = pool(PoolParams.builder());
        alloc(pool, 2);
        assertNull(pool.alloc());
        assertEquals(1, pool.stats().allocSlow(), "a failed slow path counts nothing");
    }

    @Test
    void allocFromAnotherThreadThanTheNapiOwnerIsRefused() throws InterruptedException {
        PagePool pool = pool(PoolParams.builder());
        pool.alloc();
        IllegalStateException[] seen = new IllegalStateException[1];
        Thread t = new Thread(() -> seen[0] = assertThrows(IllegalStateException.class, pool::alloc), "intruder");
        t.start();
        t.join();
        assertTrue(seen[0].getMessage().contains("'intruder'"), seen[0].getMessage());
    }

    @Test
    void directRecycleFromAnotherThreadFallsBackToRing() throws InterruptedException {
        PagePool pool = pool(PoolParams.builder());
        Netmem nm = pool.alloc();
        Thread t = new Thread(() -> pool.recycleDirect(nm));
        t.start();
        t.join();
        assertEquals(0, pool.stats().recycleCached());
        assertEquals(1, pool.stats().recycleRing());
    }
}

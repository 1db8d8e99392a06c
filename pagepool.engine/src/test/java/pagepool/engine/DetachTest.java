package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import pagepool.api.Frag;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.testing.TestProvider;

/** Closing a pool with pages in flight detaches it; the provider's destroy waits for the last page. */
class DetachTest {

    private final PoolRegistry pools = new PoolRegistry(5, 100);
    private final TestProvider provider = new TestProvider("test");

    @AfterEach
    void closePools() {
        pools.close();
    }

    @Test
    void closeWithNothingInFlightDestroysAtOnce() {
        PagePool pool = pools.create(PoolParams.builder().build(), provider);
        List<Netmem> pages = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            pages.add(pool.alloc());
        }
        pages.forEach(pool::recycleDirect);
        pool.close();
        PoolInfo info = pool.info();
        assertEquals(PoolInfo.State.DESTROYED, info.state());
        assertEquals(0, info.inflight());
        assertNull(info.detachTime(), "never detached");
        assertEquals(1, provider.destroys.get());
        assertEquals(0, provider.pagesOut.get());
        assertTrue(pools.pools().isEmpty());
    }

    @Test
    void closeWithPagesOutDetachesAndFinishesOnTheLastRelease() throws InterruptedException {
        PagePool pool = pools.create(PoolParams.builder().queue("eth0", 3).build(), provider);
        List<Netmem> held = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            held.add(pool.alloc());
        }
        pool.recycleDirect(held.remove(4));
        pool.close();

        PoolInfo info = pool.info();
        assertEquals(PoolInfo.State.DETACHED, info.state());
        assertEquals(4, info.inflight(), "cache drained; the 4 held pages are still out");
        assertEquals(4 * 4096, info.inflightBytes());
        assertNotNull(info.detachTime());
        assertEquals(0, provider.destroys.get(), "no destroy under pages in use");
        assertEquals(List.of(pool.id()), pools.pools().stream().map(PoolInfo::id).toList());
        assertThrows(IllegalStateException.class, pool::alloc, "a closed pool allocates nothing");

        StackThread.release(pool, held);
        info = pool.info();
        assertEquals(PoolInfo.State.DESTROYED, info.state());
        assertEquals(0, info.inflight());
        assertEquals(0, pool.stats().recycleRing(), "a detached pool recycles nothing");
        assertEquals(1, provider.destroys.get());
        assertEquals(0, provider.pagesOut.get(), "the provider got every page back");
        assertTrue(pools.pools().isEmpty());
    }

    @Test
    void directRecyclesAfterCloseGoHomeNotIntoTheCache() {
        PagePool pool = pools.create(PoolParams.builder().queue("eth0", 1).build(), provider);
        List<Netmem> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(pool.alloc());
        }
        pool.close(); // this thread is also the pool's NAPI owner: it goes on after the stop
        long cachedBefore = pool.stats().recycleCached();

        held.forEach(pool::recycleDirect);

        assertEquals(cachedBefore, pool.stats().recycleCached(), "nothing cached into a closed pool");
        assertEquals(0, pool.stats().recycleCacheFull(), "a closed pool's cache is not full, it is shut");
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state(), "the last page back destroyed it");
        assertEquals(0, provider.pagesOut.get(), "the provider got every page back");
        assertEquals(1, provider.destroys.get());
    }

    @Test
    void heldFragmentKeepsThePoolDetached() {
        PagePool pool = pools.create(PoolParams.builder().build(), provider);
        Frag a = new Frag();
        Frag b = new Frag();
        pool.allocFrag(512, a);
        pool.allocFrag(512, b);
        pool.release(a.netmem());
        pool.close();
        assertEquals(PoolInfo.State.DETACHED, pool.info().state());
        pool.release(b.netmem());
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state());
        assertEquals(0, provider.pagesOut.get());
    }

    @Test
    void stalledPoolIsReportedAndStillNeverFreedUnderAPage() throws InterruptedException {
        PagePool pool = pools.create(PoolParams.builder().build(), provider);
        Netmem held = pool.alloc();
        pool.close();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!pool.info().stalled() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        PoolInfo info = pool.info();
        assertTrue(info.stalled(), "reported after the 100 ms stall time");
        assertEquals(PoolInfo.State.DETACHED, info.state());
        assertEquals(0, provider.destroys.get());
        held.segment().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 42L); // still usable memory

        pool.release(held);
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state());
        assertEquals(1, provider.destroys.get());
    }

    @Test
    void closeTwiceIsHarmless() {
        PagePool pool = pools.create(PoolParams.builder().build(), provider);
        pool.close();
        pool.close();
        assertEquals(1, provider.destroys.get());
        assertFalse(pool.info().stalled());
    }
}

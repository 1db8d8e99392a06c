package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import pagepool.api.BadReleaseException;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.testing.TestProvider;

/** Bulk allocation for ring refills, and page_pool_put_netmem_bulk for consumers releasing batches. */
class BulkTest {

    private final PoolRegistry pools = new PoolRegistry(10, 60_000);
    private final TestProvider provider = new TestProvider("test");

    @AfterEach
    void closePools() {
        pools.close();
    }

    private PagePool pool(int poolSize) {
        return pools.create(PoolParams.builder().poolSize(poolSize).queue("eth0", 0).build(), provider);
    }

    private static void onAnotherThread(Runnable r) throws InterruptedException {
        Throwable[] failed = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                failed[0] = e;
            }
        }, "stack");
        t.start();
        t.join();
        if (failed[0] instanceof RuntimeException e) {
            throw e;
        }
    }

    @Test
    void aBulkAllocationHandsOutDistinctPagesEachWithOneReference() {
        PagePool pool = pool(1024);
        Netmem[] out = new Netmem[100];
        assertEquals(100, pool.alloc(out, 100));
        Set<Netmem> distinct = new HashSet<>();
        for (Netmem nm : out) {
            assertTrue(distinct.add(nm));
            assertEquals(1, nm.generation(), "handed out once");
        }
        // 64 from the provider (1 handed out, 63 from the cache), again (1, then 35 of 63 from the cache).
        assertEquals(2, pool.stats().allocSlow(), "two provider batches of 64");
        assertEquals(98, pool.stats().allocFast());
        for (int i = 0; i < 100; i++) {
            pool.recycleDirect(out[i]);
        }
        assertEquals(100, pool.alloc(out, 100), "from the cache now: 28 left + 100 back");
        assertEquals(198, pool.stats().allocFast());
        assertThrows(IllegalArgumentException.class, () -> pool.alloc(out, 101));
        for (Netmem nm : out) {
            pool.recycleDirect(nm);
        }
        pool.close();
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state());
    }

    @Test
    void aBulkReleaseFromAnotherThreadFillsTheRingWithOneReservation() throws InterruptedException {
        PagePool pool = pool(1024);
        Netmem[] out = new Netmem[64];
        int[] gens = new int[64];
        pool.alloc(out, 64);
        for (int i = 0; i < 64; i++) {
            gens[i] = out[i].generation();
        }
        long ringBefore = pool.stats().recycleRing();

        onAnotherThread(() -> pool.release(out, gens, 64));

        assertEquals(ringBefore + 64, pool.stats().recycleRing());
        assertEquals(0, pool.info().badReleases());
        Netmem[] again = new Netmem[64];
        assertEquals(64, pool.alloc(again, 64), "refilled from the ring");
        for (Netmem nm : again) {
            pool.recycleDirect(nm);
        }
        pool.close();
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state(), "nothing leaked");
    }

    @Test
    void aBulkReleaseGivesEveryGoodPageBackAndRefusesTheBadOnes() throws InterruptedException {
        PagePool pool = pool(1024);
        Netmem[] out = new Netmem[8];
        pool.alloc(out, 8);
        int[] gens = new int[8];
        for (int i = 0; i < 8; i++) {
            gens[i] = out[i].generation();
        }
        Netmem stale = out[2];
        gens[2]++; // a stale generation
        Netmem kept = out[5];
        PagePool other = pool(64);
        Netmem foreign = other.alloc();
        out[5] = foreign; // not this pool's

        BadReleaseException e = assertThrows(BadReleaseException.class,
                () -> onAnotherThread(() -> pool.release(out, gens, 8)));

        assertTrue(e.getMessage().contains("a stale reference (and 1 more of the batch)"), e.getMessage());
        assertEquals(2, pool.info().badReleases());
        assertEquals(6, pool.stats().recycleRing(), "the six good pages went back through the ring");
        pool.recycleDirect(stale);
        pool.recycleDirect(kept);
        other.recycleDirect(foreign);
        pool.close();
        other.close();
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state(), "every page accounted for");
        assertEquals(0, provider.pagesOut.get());
    }

    @Test
    void aBulkReleaseToAFullRingOrADetachedPoolSendsPagesToTheProvider() throws InterruptedException {
        PagePool pool = pool(16); // a ring of 16
        Netmem[] out = new Netmem[40];
        int[] gens = new int[40];
        assertEquals(40, pool.alloc(out, 40));
        for (int i = 0; i < 40; i++) {
            gens[i] = out[i].generation();
        }
        onAnotherThread(() -> pool.release(out, gens, 40));
        assertEquals(16, pool.stats().recycleRing());
        assertEquals(24, pool.stats().recycleRingFull());
        pool.close();
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state(), "the ring drained at close");
        assertEquals(0, provider.pagesOut.get());
    }

    /** A driver fills a ring in process context and hands the pool to its NAPI thread, as ndo_queue_mem_alloc. */
    @Test
    void aPoolFilledOnOneThreadIsHandedOverToTheNapiThreadThatAllocatesNext() throws InterruptedException {
        PagePool pool = pool(1024);
        Netmem[] ring = new Netmem[64];
        assertEquals(64, pool.alloc(ring, 64), "filled on this thread, which now holds the pool");
        String filler = Thread.currentThread().getName();
        onAnotherThread(() -> assertTrue(assertThrows(IllegalStateException.class, pool::alloc).getMessage()
                .startsWith("pool " + pool.id() + " allocates from thread '" + filler + "'"), "not handed over yet"));
        pool.handOverNapi();
        onAnotherThread(() -> {
            assertTrue(pool.alloc() != null, "the NAPI thread takes the pool with its first allocation");
            pool.handOverNapi(); // and may hand it on in turn
        });
        onAnotherThread(() -> {
            assertTrue(pool.alloc() != null);
        });
        IllegalStateException held = assertThrows(IllegalStateException.class, pool::handOverNapi);
        assertTrue(held.getMessage().contains("is held by thread 'stack' (its NAPI context), not by '"
                + Thread.currentThread().getName() + "'"), held.getMessage());
        for (Netmem nm : ring) {
            pool.release(nm);
        }
    }
}

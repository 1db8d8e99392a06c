package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.IdentityHashMap;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import pagepool.api.BadReleaseException;
import pagepool.api.Frag;
import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.api.PoolStats;
import pagepool.api.testing.TestProvider;

/** A page given back that is not out is refused, counted, and changes nothing. */
class BadReleaseTest {

    private final PoolRegistry pools = new PoolRegistry(10, 60_000);
    private final TestProvider provider = new TestProvider("test");
    private final PagePool pool = pools.create(PoolParams.builder().queue("eth0", 1).build(), provider);

    @AfterEach
    void closePools() {
        pools.close();
    }

    @Test
    void doubleDirectRecycleIsRefusedAndTheCacheStaysSound() {
        Netmem a = pool.alloc();
        Netmem b = pool.alloc();
        pool.recycleDirect(a);
        PoolStats before = pool.stats();
        BadReleaseException e = assertThrows(BadReleaseException.class, () -> pool.recycleDirect(a));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
        assertTrue(e.getMessage().contains("eth0/1"), e.getMessage());
        assertEquals(before, pool.stats(), "nothing counted as recycled");
        assertEquals(1, pool.info().badReleases());
        // Had the page gone into the cache twice, two allocations would return it twice.
        Netmem x = pool.alloc();
        Netmem y = pool.alloc();
        assertNotSame(x, y);
        assertNotSame(b, x);
        assertNotSame(b, y);
    }

    @Test
    void aStaleReleaseAfterThePageWasHandedOutAgainIsRefusedWithItsGeneration() {
        Netmem a = pool.alloc();
        int first = a.generation();
        pool.recycleDirect(a, first);
        Netmem again = pool.alloc();
        assertTrue(again == a, "the cache hands the same page out again");
        int second = again.generation();
        assertTrue(second != first);

        // The first holder still has the page and gives it back late: refused, the new holder keeps it.
        BadReleaseException e = assertThrows(BadReleaseException.class, () -> pool.release(a, first));
        assertTrue(e.getMessage().contains("with generation " + first + ", but it was given back and handed out again"
                + " since (generation " + second + "): a stale reference"), e.getMessage());
        assertEquals(1, pool.info().badReleases());
        pool.release(again, second); // the new holder's release still works: its reference was untouched
        Frag f = new Frag();
        pool.allocFrag(64, f);
        assertEquals(f.netmem().generation(), f.generation(), "a fragment carries its page's generation");
        pool.recycleDirect(f.netmem(), f.generation());
    }

    @Test
    void doubleReleaseFromAnotherThreadIsRefused() throws InterruptedException {
        Netmem a = pool.alloc();
        BadReleaseException[] seen = new BadReleaseException[1];
        Thread t = new Thread(() -> {
            pool.release(a);
            seen[0] = assertThrows(BadReleaseException.class, () -> pool.release(a));
        });
        t.start();
        t.join();
        assertTrue(seen[0].getMessage().contains("twice"));
        assertEquals(1, pool.stats().recycleRing());
        assertEquals(1, pool.info().badReleases());
    }

    @Test
    void releaseOfAPageBackWithItsProviderIsRefused() {
        provider.recyclable(false);
        Netmem a = pool.alloc();
        pool.recycleDirect(a); // unrecyclable: straight back to the provider
        BadReleaseException e = assertThrows(BadReleaseException.class, () -> pool.release(a));
        assertTrue(e.getMessage().contains("back with its provider"), e.getMessage());
        assertEquals(1, provider.pagesReturned.get(), "the provider got it once");
    }

    @Test
    void releaseToTheWrongPoolIsRefused() {
        PagePool other = pools.create(PoolParams.builder().queue("eth0", 2).build(), provider);
        Netmem a = pool.alloc();
        BadReleaseException e = assertThrows(BadReleaseException.class, () -> other.release(a));
        assertTrue(e.getMessage().contains("belongs to pool " + pool.id()), e.getMessage());
        assertEquals(1, other.info().badReleases());
        pool.recycleDirect(a); // still fine for its own pool
        assertEquals(1, pool.stats().recycleCached());
    }

    @Test
    void netmemNotFromAPagePoolIsRefused() {
        MemoryArea area = MemoryArea.unreadable("rogue", 1L << 20, 4096).build();
        Netmem rogue = new Netmem(area, 0) { };
        BadReleaseException e = assertThrows(BadReleaseException.class, () -> pool.release(rogue));
        assertTrue(e.getMessage().contains("not handed out by a page pool"), e.getMessage());
        assertThrows(BadReleaseException.class, () -> pool.recycleDirect(null));
        assertEquals(2, pool.info().badReleases());
    }

    @Test
    void everyPageOutIsDistinct() {
        Map<Netmem, Boolean> out = new IdentityHashMap<>();
        for (int i = 0; i < 500; i++) {
            Netmem nm = pool.alloc();
            assertEquals(null, out.put(nm, Boolean.TRUE), "handed out twice: " + nm);
        }
    }

    @Test
    void anExtraReferenceKeepsThePageOutUntilEachHolderReleasedItsOwn() throws Exception {
        Netmem a = pool.alloc();
        pool.ref(a);
        pool.ref(a); // three holders: the NAPI owner and two consumers
        pool.recycleDirect(a); // the owner's: the page stays out
        Thread other = new Thread(() -> pool.release(a, a.generation()));
        other.start();
        other.join();
        assertNotSame(a, pool.alloc(), "still out: one holder is left");
        pool.release(a);
        assertEquals(0, pool.info().badReleases());
        BadReleaseException e = assertThrows(BadReleaseException.class, () -> pool.ref(a));
        assertTrue(e.getMessage().contains("it has none: it is back in the pool"), e.getMessage());
        assertThrows(BadReleaseException.class, () -> pool.release(a), "a fourth release is one too many");
        assertEquals(2, pool.info().badReleases());
    }
}

package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import pagepool.api.BadReleaseException;
import pagepool.api.Frag;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.api.testing.TestProvider;

/** Fragments share one page through its reference count. */
class FragmentTest {

    private final PoolRegistry pools = new PoolRegistry(10, 60_000);
    private final TestProvider provider = new TestProvider("test");
    private final PagePool pool = pools.create(PoolParams.builder().build(), provider);

    @AfterEach
    void closePools() {
        pools.close();
    }

    @Test
    void fragmentsAreCutFromOnePageAtCacheLineOffsets() {
        Frag a = new Frag();
        Frag b = new Frag();
        Frag c = new Frag();
        assertTrue(pool.allocFrag(1500, a));
        assertTrue(pool.allocFrag(100, b));
        assertTrue(pool.allocFrag(64, c));
        assertSame(a.netmem(), b.netmem());
        assertSame(a.netmem(), c.netmem());
        assertEquals(0, a.offset());
        assertEquals(1536, b.offset(), "1500 rounded up to 64");
        assertEquals(1536 + 128, c.offset());
        assertEquals(1536, a.length());
    }

    @Test
    void fragmentThatDoesNotFitStartsANewPage() {
        Frag a = new Frag();
        Frag b = new Frag();
        assertTrue(pool.allocFrag(3000, a));
        assertTrue(pool.allocFrag(2000, b));
        assertNotSame(a.netmem(), b.netmem());
        assertEquals(0, b.offset());
    }

    @Test
    void pageIsRecycledOnlyAfterItsLastFragmentAndTheCutterMovedOn() {
        Frag a = new Frag();
        Frag b = new Frag();
        Frag next = new Frag();
        pool.allocFrag(2048, a);
        pool.allocFrag(2048, b);
        pool.recycleDirect(a.netmem());
        pool.recycleDirect(b.netmem());
        assertEquals(0, pool.stats().recycleCached(), "still the page being cut");
        // The next fragment needs a new page: the old one's bias is dropped and, with both of its
        // fragments back, it goes straight into the cache, from where it is cut again at once.
        pool.allocFrag(64, next);
        assertEquals(1, pool.stats().recycleCached());
        assertSame(a.netmem(), next.netmem());
        assertEquals(0, next.offset());
    }

    @Test
    void pageOutlivesTheCutterWhileAFragmentIsHeld() {
        Frag a = new Frag();
        Frag b = new Frag();
        pool.allocFrag(4096, a);
        pool.allocFrag(4096, b);
        assertEquals(0, pool.stats().recycleCached(), "page of a is still held");
        pool.release(a.netmem());
        assertEquals(1, pool.stats().recycleRing(), "last fragment back: the page recycles");
        assertThrows(BadReleaseException.class, () -> pool.release(a.netmem()));
    }

    @Test
    void sizeOutsideThePageIsRejected() {
        Frag f = new Frag();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.allocFrag(0, f));
        assertEquals("size: 0 (expected: 1..4096)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> pool.allocFrag(4097, f));
        assertEquals("size: 4097 (expected: 1..4096)", e.getMessage());
        assertEquals(null, f.netmem(), "the descriptor is untouched");
    }

    @Test
    void noMemoryLeavesTheDescriptorUntouched() {
        provider.memoryLimit(1);
        Frag a = new Frag();
        Frag b = new Frag();
        assertTrue(pool.allocFrag(4096, a));
        assertFalse(pool.allocFrag(64, b));
        assertEquals(null, b.netmem());
    }
}

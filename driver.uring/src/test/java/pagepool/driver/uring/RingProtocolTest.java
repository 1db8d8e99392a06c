package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.api.testing.TestProvider;
import pagepool.engine.StandaloneEngine;

/** The provided-buffer ring as the kernel reads it: descriptors, buffer ids, the 16-bit tail. */
class RingProtocolTest {

    @Test
    void descriptorsGoAtTheTailAndTheTailWrapsAtSixteenBits() {
        try (Arena arena = Arena.ofConfined()) {
            BufferRing ring = new BufferRing(arena, 16, 7);
            MemorySegment m = ring.memory();
            for (int i = 0; i < 70_000; i++) {
                ring.add(0x1000L * i, 4096, i & 15);
                if (i % 5 == 0) {
                    ring.publish();
                    assertEquals((short) (i + 1), m.get(JAVA_SHORT, 14), "published tail after " + (i + 1));
                }
                long at = 16L * (i & 15);
                assertEquals(0x1000L * i, m.get(JAVA_LONG, at));
                assertEquals(4096, m.get(JAVA_INT, at + 8));
                assertEquals(i & 15, m.get(JAVA_SHORT, at + 12));
            }
            ring.publish();
            assertEquals((short) 70_000, m.get(JAVA_SHORT, 14), "the tail wrapped past 65535");
            assertEquals(70_000, ring.tail());
        }
    }

    @Test
    void ringSizeMustBeAPowerOfTwo() {
        try (Arena arena = Arena.ofConfined()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BufferRing(arena, 24, 1));
            assertEquals("entries: 24 (expected: a power of 2 in 1..32768)", e.getMessage());
        }
    }

    @Test
    void bufferIdsNameTheirPagesUntilTakenAndAFullRingRefusesMore() {
        try (StandaloneEngine engine = new StandaloneEngine()) {
            TestProvider provider = new TestProvider("test");
            PagePool pool = engine.createPool(PoolParams.builder().poolSize(64).build(), provider);
            RingMem m = new RingMem(0, 3, pool, 16);
            Netmem[] pages = new Netmem[16];
            for (int i = 0; i < 16; i++) {
                pages[i] = pool.alloc();
                m.post(pages[i]);
            }
            assertEquals(0, m.room());
            Netmem extra = pool.alloc();
            IllegalStateException full = assertThrows(IllegalStateException.class, () -> m.post(extra));
            assertEquals("buffer ring of group 3 is full (16 posted)", full.getMessage());
            pool.release(extra);
            // Each descriptor carries its page's address under a distinct id.
            Set<Integer> ids = new HashSet<>();
            MemorySegment ring = m.ring.memory();
            for (int i = 0; i < 16; i++) {
                int bid = ring.get(JAVA_SHORT, 16L * i + 12);
                assertEquals(UringMem.address(pages[i]), ring.get(JAVA_LONG, 16L * i));
                ids.add(bid);
                assertSame(pages[i], m.byBid[bid]);
            }
            assertEquals(16, ids.size());
            // The kernel completes them in any order; a taken id is free for the next post.
            int bid = ring.get(JAVA_SHORT, 16L * 5 + 12);
            assertSame(pages[5], m.take(bid));
            assertThrows(IllegalStateException.class, () -> m.take(bid), "an id taken twice");
            assertEquals(1, m.room());
            Netmem next = pool.alloc();
            m.post(next);
            assertSame(next, m.byBid[bid]);
            assertEquals(bid, ring.get(JAVA_SHORT, 12), "the 17th descriptor wraps to slot 0");
            IllegalStateException none = assertThrows(IllegalStateException.class, () -> m.take(99));
            assertEquals("buffer id 99 of group 3 has no page posted", none.getMessage());
            pool.release(pages[5]);
            m.free();
            assertEquals(0, provider.pagesOut.get(), "every posted page went back and the pool was destroyed");
            assertEquals(1, provider.destroys.get());
        }
    }
}

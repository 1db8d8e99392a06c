package pagepool.driver.xdp;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

/**
 * The ring protocol against a ring laid out as the kernel lays it out, with the test playing the
 * kernel's side: indices run free and wrap at 2^32, entries are found by index & mask.
 */
class XskRingTest {

    static final long PRODUCER = 0;
    static final long CONSUMER = 64;
    static final long DESC = 128;
    static final long FLAGS = 96;

    final Arena arena = Arena.ofConfined();

    MemorySegment offsets() {
        MemorySegment o = arena.allocate(32, 8);
        o.set(JAVA_LONG, 0, PRODUCER);
        o.set(JAVA_LONG, 8, CONSUMER);
        o.set(JAVA_LONG, 16, DESC);
        o.set(JAVA_LONG, 24, FLAGS);
        return o;
    }

    @Test
    void theFillRingProducesAddressesUntilFullAndSeesWhatTheKernelConsumed() {
        MemorySegment o = offsets();
        MemorySegment map = arena.allocate(XskRing.mapBytes(o, 8, 8), 64);
        int start = 0xfffffffa; // six entries before the indices wrap
        map.set(JAVA_INT, PRODUCER, start);
        map.set(JAVA_INT, CONSUMER, start);
        XskRing fill = new XskRing(map, o, 8, 8, true);
        assertEquals(8, fill.free());
        for (int i = 0; i < 8; i++) {
            fill.putAddress(i, 4096L * i);
        }
        fill.submit(8);
        assertEquals(start + 8, map.get(JAVA_INT, PRODUCER), "published, wrapped past 2^32");
        assertEquals(0, fill.free(), "full until the kernel consumes");
        for (int i = 0; i < 8; i++) {
            assertEquals(4096L * i, map.get(JAVA_LONG, DESC + 8L * ((start + i) & 7)), "entry " + i);
        }
        map.set(JAVA_INT, CONSUMER, start + 3); // the kernel took three frames
        assertEquals(3, fill.free());
        assertEquals(5, fill.outstanding());
    }

    @Test
    void theRxRingConsumesDescriptorsTheKernelProducedAndReleasesThem() {
        MemorySegment o = offsets();
        MemorySegment map = arena.allocate(XskRing.mapBytes(o, 4, XskRing.DESC), 64);
        int start = -2;
        map.set(JAVA_INT, PRODUCER, start);
        map.set(JAVA_INT, CONSUMER, start);
        XskRing rx = new XskRing(map, o, 4, XskRing.DESC, false);
        assertEquals(0, rx.ready());
        for (int i = 0; i < 3; i++) { // the kernel writes three descriptors, then its index
            long at = DESC + XskRing.DESC * ((start + i) & 3L);
            map.set(JAVA_LONG, at, 4096L * (i + 1) + 256);
            map.set(JAVA_INT, at + 8, 60 + i);
        }
        map.set(JAVA_INT, PRODUCER, start + 3);
        assertEquals(3, rx.ready());
        assertEquals(4096L + 256, rx.address(0));
        assertEquals(62, rx.length(2));
        rx.release(3);
        assertEquals(start + 3, map.get(JAVA_INT, CONSUMER));
        assertEquals(0, rx.ready());
        assertFalse(rx.needsWakeup());
        map.set(JAVA_INT, FLAGS, XskRing.NEED_WAKEUP);
        assertTrue(rx.needsWakeup());
    }
}

package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * A provided-buffer ring ({@code struct io_uring_buf_ring}): the user-space twin of a NIC's RX
 * ring. The application writes buffer descriptors (address, length, buffer id) at its tail and
 * publishes the tail with a release store; the kernel takes one buffer per datagram from the head
 * and names its id in the completion. The tail is a 16-bit counter that wraps, stored in the first
 * descriptor's reserved field. Owned by its queue's thread.
 */
final class BufferRing {

    static final int MAX_ENTRIES = 32768;
    private static final VarHandle SHORT = JAVA_SHORT.varHandle();

    private final int bgid;
    private final int entries;
    private final int mask;
    private final MemorySegment ring;
    /** Descriptors written, published or not; the kernel's head trails it. */
    private int tail;

    /**
     * @param entries a power of two, at most {@value #MAX_ENTRIES}
     * @param bgid the buffer group id the receive names
     */
    BufferRing(Arena arena, int entries, int bgid) {
        if (entries < 1 || entries > MAX_ENTRIES || Integer.bitCount(entries) != 1) {
            throw new IllegalArgumentException("entries: " + entries + " (expected: a power of 2 in 1.." + MAX_ENTRIES
                    + ")");
        }
        this.bgid = bgid;
        this.entries = entries;
        this.mask = entries - 1;
        this.ring = arena.allocate(16L * entries, 4096);
    }

    int bgid() {
        return bgid;
    }

    int entries() {
        return entries;
    }

    MemorySegment memory() {
        return ring;
    }

    /** Writes a descriptor at the tail; the kernel sees it after {@link #publish()}. */
    void add(long address, int length, int bid) {
        long at = 16L * (tail & mask);
        // The tail lives in bytes 14-15 of descriptor 0: write the fields, never the whole entry.
        ring.set(JAVA_LONG, at, address);
        ring.set(JAVA_INT, at + 8, length);
        ring.set(JAVA_SHORT, at + 12, (short) bid);
        tail++;
    }

    /** Makes every descriptor added so far visible to the kernel. */
    void publish() {
        SHORT.setRelease(ring, 14L, (short) tail);
    }

    /** Descriptors added so far (the unwrapped tail). */
    int tail() {
        return tail;
    }
}

package pagepool.driver.xdp;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * One of an AF_XDP socket's four single-producer single-consumer rings, mapped from the kernel:
 * a producer and a consumer index (free-running u32), a flags word and the entries. The fill
 * ring carries frame addresses (u64) to the kernel, the RX ring descriptors ({@code struct
 * xdp_desc}: u64 address, u32 length, u32 options) back. The side that owns an index writes it
 * with release semantics after its entries; the other side reads it with acquire semantics
 * before reading them, as libxdp's {@code xsk_ring_prod__submit}/{@code xsk_ring_cons__peek}.
 */
final class XskRing {

    /** {@code XDP_RING_NEED_WAKEUP}: the kernel wants a system call before it looks at the ring again. */
    static final int NEED_WAKEUP = 1;
    /** {@code struct xdp_desc}: address, length, options. */
    static final int DESC = 16;

    private static final VarHandle INT = JAVA_INT.varHandle();

    final MemorySegment map;
    final int size;
    private final int mask;
    private final long producerAt;
    private final long consumerAt;
    private final long flagsAt;
    private final long descAt;
    private final int entryBytes;
    /** This side's copy of the index it owns, and the last value seen of the other's. */
    private int mine;
    private int theirs;
    private final boolean producer;

    /**
     * @param offsets the ring's {@code struct xdp_ring_offset}: producer, consumer, desc, flags (u64 each)
     * @param producer whether this side produces (fill, TX) or consumes (RX, completion)
     */
    XskRing(MemorySegment map, MemorySegment offsets, int size, int entryBytes, boolean producer) {
        this.map = map;
        this.size = size;
        this.mask = size - 1;
        this.producerAt = offsets.get(JAVA_LONG, 0);
        this.consumerAt = offsets.get(JAVA_LONG, 8);
        this.descAt = offsets.get(JAVA_LONG, 16);
        this.flagsAt = offsets.get(JAVA_LONG, 24);
        this.entryBytes = entryBytes;
        this.producer = producer;
        this.mine = (int) INT.getAcquire(map, producer ? producerAt : consumerAt);
        this.theirs = (int) INT.getAcquire(map, producer ? consumerAt : producerAt);
    }

    /** Bytes to map for a ring of {@code size} entries of {@code entryBytes}. */
    static long mapBytes(MemorySegment offsets, int size, int entryBytes) {
        return offsets.get(JAVA_LONG, 16) + (long) size * entryBytes;
    }

    // ---- producer side (fill ring) --------------------------------------------------------------------

    /** Entries free to produce now. */
    int free() {
        int free = size - (mine - theirs);
        if (free == 0) {
            theirs = (int) INT.getAcquire(map, consumerAt);
            free = size - (mine - theirs);
        }
        return free;
    }

    /** Entries the kernel has not consumed yet, as last seen (a producer's view). */
    int outstanding() {
        theirs = (int) INT.getAcquire(map, consumerAt);
        return mine - theirs;
    }

    /** Writes a frame address into the next free slot (publish with {@link #submit}). */
    void putAddress(int nth, long address) {
        map.set(JAVA_LONG, descAt + (long) ((mine + nth) & mask) * entryBytes, address);
    }

    void submit(int n) {
        mine += n;
        INT.setRelease(map, producerAt, mine);
    }

    // ---- consumer side (RX ring) ------------------------------------------------------------------------

    /** Entries ready to consume. */
    int ready() {
        theirs = (int) INT.getAcquire(map, producerAt);
        return theirs - mine;
    }

    /** The address of the {@code nth} ready descriptor (or fill-ring-style entry). */
    long address(int nth) {
        return map.get(JAVA_LONG, descAt + (long) ((mine + nth) & mask) * entryBytes);
    }

    /** The length of the {@code nth} ready descriptor. */
    int length(int nth) {
        return map.get(JAVA_INT, descAt + (long) ((mine + nth) & mask) * entryBytes + 8);
    }

    void release(int n) {
        mine += n;
        INT.setRelease(map, consumerAt, mine);
    }

    boolean needsWakeup() {
        return (map.get(JAVA_INT, flagsAt) & NEED_WAKEUP) != 0;
    }

    boolean isProducer() {
        return producer;
    }
}

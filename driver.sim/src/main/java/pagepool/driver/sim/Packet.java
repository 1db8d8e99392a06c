package pagepool.driver.sim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import pagepool.api.Netmem;
import pagepool.kit.traffic.Checksum;

/**
 * The simulated wire format and the traffic source. A packet is a 64-byte header (sequence
 * number, payload length, queue, checksum, magic) and a payload cut from a fixed pseudo-random
 * template at an offset chosen by the sequence number. The NIC computes the checksum in O(1)
 * from prefix sums over the template, so generating traffic costs a copy; a consumer verifies
 * by reading every payload byte.
 *
 * <p>Public, in a package the bundle does not export, for the benchmark that measures the
 * per-packet data work on its own (the floor of {@code ./bench rx}).
 */
public final class Packet {

    public static final int HEADER_LEN = 64;
    static final int MIN_SIZE = 128;
    static final int MAX_SIZE = 4096;
    static final long MAGIC = 0x70616765706f6f6cL; // "pagepool"

    static final long SEQ = 0;
    static final long LEN = 8;
    static final long QUEUE = 12;
    static final long CHECKSUM = 16;
    static final long MAGIC_AT = 24;

    private static final int TEMPLATE_WORDS = 1 << 17; // 1 MiB
    private static final int SPAN_WORDS = TEMPLATE_WORDS - MAX_SIZE / 8 - 1;

    /** Template bytes, prefix sums of its words (P1) and of index-weighted words (P2). */
    public static final class Template {
        final MemorySegment bytes;
        private final long[] p1 = new long[TEMPLATE_WORDS + 1];
        private final long[] p2 = new long[TEMPLATE_WORDS + 1];

        public Template(Arena arena, long seed) {
            bytes = arena.allocate((long) TEMPLATE_WORDS * 8 + 8, 8);
            SplittableRandom rnd = new SplittableRandom(seed);
            for (int i = 0; i < TEMPLATE_WORDS + 1; i++) {
                bytes.setAtIndex(ValueLayout.JAVA_LONG, i, rnd.nextLong());
            }
            for (int i = 0; i < TEMPLATE_WORDS; i++) {
                long w = bytes.getAtIndex(ValueLayout.JAVA_LONG, i);
                p1[i + 1] = p1[i] + w;
                p2[i + 1] = p2[i] + w * i;
            }
        }

        /** Byte offset in the template where the payload of {@code seq} starts. */
        long payloadOffset(long seq) {
            return (Math.floorMod(seq * 7919L, SPAN_WORDS)) * 8L;
        }

        /** The checksum of {@code len} template bytes at word {@code o}, in O(1). */
        public long checksum(long seq, int len) {
            int o = (int) (payloadOffset(seq) >>> 3);
            int n = len >>> 3;
            long s1 = p1[o + n] - p1[o];
            long s2 = (p2[o + n] - p2[o]) - (long) o * s1;
            return Checksum.fold(s1, s2, Checksum.tail(bytes, (long) (o + n) * 8, len & 7));
        }
    }

    private Packet() {
    }

    /**
     * Where a readable page starts in its area's memory. The packet path reads and writes pages
     * through the area's segment at this offset rather than through {@link Netmem#segment()},
     * whose slice would be one allocation per packet.
     */
    static long pageOffset(Netmem nm) {
        return (long) nm.index() << nm.area().pageShift();
    }

    /** What the NIC DMA-writes: the header, and the payload when the payload memory is readable. */
    public static void writeHeader(MemorySegment hdr, long at, long seq, int payloadLen, int queue, long checksum) {
        hdr.set(ValueLayout.JAVA_LONG_UNALIGNED, at + SEQ, seq);
        hdr.set(ValueLayout.JAVA_INT_UNALIGNED, at + LEN, payloadLen);
        hdr.set(ValueLayout.JAVA_INT_UNALIGNED, at + QUEUE, queue);
        hdr.set(ValueLayout.JAVA_LONG_UNALIGNED, at + CHECKSUM, checksum);
        hdr.set(ValueLayout.JAVA_LONG_UNALIGNED, at + MAGIC_AT, MAGIC);
    }

    public static void writePayload(Template t, long seq, MemorySegment dst, long at, int len) {
        MemorySegment.copy(t.bytes, t.payloadOffset(seq), dst, at, len);
    }

    /** The checksum of every payload byte, read: what the NIC should have written. */
    static long checksumOf(MemorySegment payload, long at, int len) {
        return Checksum.of(payload, at, len);
    }

    /**
     * Checks a received packet: header intact, and payload bytes matching both the header's
     * checksum and the one the sequence number implies.
     *
     * @return null when good, else what is wrong
     */
    public static String verify(Template t, MemorySegment hdr, long hdrAt, MemorySegment payload, long payloadAt, int queue) {
        if (hdr.get(ValueLayout.JAVA_LONG_UNALIGNED, hdrAt + MAGIC_AT) != MAGIC) {
            return "bad magic";
        }
        long seq = hdr.get(ValueLayout.JAVA_LONG_UNALIGNED, hdrAt + SEQ);
        int len = hdr.get(ValueLayout.JAVA_INT_UNALIGNED, hdrAt + LEN);
        if (hdr.get(ValueLayout.JAVA_INT_UNALIGNED, hdrAt + QUEUE) != queue) {
            return "packet " + seq + " of another queue";
        }
        long expected = t.checksum(seq, len);
        if (hdr.get(ValueLayout.JAVA_LONG_UNALIGNED, hdrAt + CHECKSUM) != expected) {
            return "packet " + seq + ": header checksum differs from the sequence's";
        }
        if (payload != null && checksumOf(payload, payloadAt, len) != expected) {
            return "packet " + seq + ": payload corrupt";
        }
        return null;
    }
}

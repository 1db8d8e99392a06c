package pagepool.driver.sim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import pagepool.api.Netmem;

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

    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED;
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
            long tail = 0;
            long base = (long) (o + n) * 8;
            for (int i = 0; i < (len & 7); i++) {
                tail += (bytes.get(ValueLayout.JAVA_BYTE, base + i) & 0xff) * (long) (i + 1);
            }
            return mix(s1, s2, tail);
        }
    }

    private Packet() {
    }

    /**
     * Folds the sums into the checksum. The weighted sum is multiplied (odd: nothing lost) and
     * rotated, so a change to one word, which moves both sums from the same bit upwards, cannot
     * cancel itself out in the fold (without the rotation, a flip of bit 61 in word 61 did).
     */
    static long mix(long s1, long s2, long tail) {
        return s1 ^ Long.rotateLeft(s2 * 0x9E3779B97F4A7C15L, 29) ^ (tail * 31);
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

    /**
     * Reads every payload byte and computes the checksum the NIC should have written: the sum of
     * the words, {@code s1}, and their index-weighted sum, {@code s2 = sum(k * w[k])}. Four lanes
     * of adds only, so the loop has no multiply and no long dependency chain: lane {@code j} sums
     * {@code a[j] += w[4t + j]} and {@code b[j] += a[j]}, so {@code b[j] = sum((T - t) * w[4t + j])}
     * over the T rounds, and {@code s2 = sum over j of 4 * (T * a[j] - b[j]) + j * a[j]}.
     */
    static long checksumOf(MemorySegment payload, long at, int len) {
        int n = len >>> 3;
        int rounds = n >>> 2;
        long a0 = 0;
        long a1 = 0;
        long a2 = 0;
        long a3 = 0;
        long b0 = 0;
        long b1 = 0;
        long b2 = 0;
        long b3 = 0;
        for (int t = 0; t < rounds; t++) {
            long o = at + 32L * t;
            a0 += payload.get(WORD, o);
            a1 += payload.get(WORD, o + 8);
            a2 += payload.get(WORD, o + 16);
            a3 += payload.get(WORD, o + 24);
            b0 += a0;
            b1 += a1;
            b2 += a2;
            b3 += a3;
        }
        long s1 = a0 + a1 + a2 + a3;
        long s2 = 4 * ((long) rounds * s1 - (b0 + b1 + b2 + b3)) + a1 + 2 * a2 + 3 * a3;
        for (int k = rounds << 2; k < n; k++) {
            long w = payload.get(WORD, at + 8L * k);
            s1 += w;
            s2 += w * k;
        }
        long tail = 0;
        long base = at + 8L * n;
        for (int i = 0; i < (len & 7); i++) {
            tail += (payload.get(ValueLayout.JAVA_BYTE, base + i) & 0xff) * (long) (i + 1);
        }
        return mix(s1, s2, tail);
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

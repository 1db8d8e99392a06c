package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;

/**
 * The verifiable datagram: a 32-byte header (magic, sequence number, payload length, flow, and a
 * checksum of the payload) and a payload of pseudo-random bytes. A receiver reads every payload
 * byte to check it: a datagram is verified, corrupt (the magic is right but the length or the
 * checksum is not), or unverifiable (not one of ours: any other sender's). Public for the
 * benchmark, whose other receivers verify the same way; the package is not exported.
 */
public final class Traffic {

    public static final int HEADER = 32;
    public static final int MIN_SIZE = 64;
    public static final int MAX_SIZE = 65_507;
    static final long MAGIC = 0x7070756470303031L; // "ppudp001"
    public static final int VERIFIED = 0;
    public static final int CORRUPT = 1;
    public static final int UNVERIFIABLE = 2;

    private Traffic() {
    }

    /**
     * Writes a datagram of {@code size} bytes at {@code at}: the header and a payload of
     * pseudo-random bytes drawn from {@code variant}, so that datagrams differ in their bytes.
     */
    static void write(MemorySegment buf, long at, int size, long seq, int flow, long variant) {
        int len = size - HEADER;
        long x = variant * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        long p = at + HEADER;
        int words = len >>> 3;
        for (int k = 0; k < words; k++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            buf.set(JAVA_LONG_UNALIGNED, p + 8L * k, x);
        }
        for (int i = words << 3; i < len; i++) {
            buf.set(JAVA_BYTE, p + i, (byte) (x >>> (8 * (i & 7))));
        }
        buf.set(JAVA_LONG_UNALIGNED, at, MAGIC);
        buf.set(JAVA_LONG_UNALIGNED, at + 8, seq);
        buf.set(JAVA_INT_UNALIGNED, at + 16, len);
        buf.set(JAVA_INT_UNALIGNED, at + 20, flow);
        buf.set(JAVA_LONG_UNALIGNED, at + 24, checksum(buf, p, len));
    }

    /** Sets a datagram's sequence number; its payload and checksum stay. */
    static void sequence(MemorySegment buf, long at, long seq) {
        buf.set(JAVA_LONG_UNALIGNED, at + 8, seq);
    }

    /** Checks the {@code length} bytes at {@code at}: {@link #VERIFIED}, {@link #CORRUPT} or {@link #UNVERIFIABLE}. */
    public static int verify(MemorySegment buf, long at, int length) {
        if (length < HEADER || buf.get(JAVA_LONG_UNALIGNED, at) != MAGIC) {
            return UNVERIFIABLE;
        }
        int len = buf.get(JAVA_INT_UNALIGNED, at + 16);
        if (len != length - HEADER) {
            return CORRUPT;
        }
        return checksum(buf, at + HEADER, len) == buf.get(JAVA_LONG_UNALIGNED, at + 24) ? VERIFIED : CORRUPT;
    }

    /**
     * Every byte: the sum of the payload's words and their index-weighted sum, computed in four
     * lanes of additions, folded with a rotation so that no single changed word and no swap of two
     * words cancels out; the tail bytes and the length join in.
     */
    static long checksum(MemorySegment buf, long at, int len) {
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
            a0 += buf.get(JAVA_LONG_UNALIGNED, o);
            a1 += buf.get(JAVA_LONG_UNALIGNED, o + 8);
            a2 += buf.get(JAVA_LONG_UNALIGNED, o + 16);
            a3 += buf.get(JAVA_LONG_UNALIGNED, o + 24);
            b0 += a0;
            b1 += a1;
            b2 += a2;
            b3 += a3;
        }
        // b[j] = sum over rounds t of (T - t) * w[4t + j], so sum(k * w[k]) = 4 * (T * s1 - sum b) + sum j * a[j].
        long s1 = a0 + a1 + a2 + a3;
        long s2 = 4 * ((long) rounds * s1 - (b0 + b1 + b2 + b3)) + a1 + 2 * a2 + 3 * a3;
        for (int k = rounds << 2; k < n; k++) {
            long w = buf.get(JAVA_LONG_UNALIGNED, at + 8L * k);
            s1 += w;
            s2 += w * k;
        }
        long tail = 0;
        for (int i = n << 3; i < len; i++) {
            tail = tail * 31 + (buf.get(JAVA_BYTE, at + i) & 0xff);
        }
        return s1 ^ Long.rotateLeft(s2 * 0x9E3779B97F4A7C15L, 29) ^ (tail * 0xC2B2AE3D27D4EB4FL) ^ len;
    }
}

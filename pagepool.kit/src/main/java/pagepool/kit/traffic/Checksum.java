package pagepool.kit.traffic;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The payload checksum every pagepool traffic source writes and every receiver checks by reading
 * each byte: the sum of the payload's 8-byte words {@code s1}, their index-weighted sum
 * {@code s2 = sum(k * w[k])}, and the tail bytes, folded so that no single changed word and no
 * swap of two words cancels out. A source that knows its payload's prefix sums (the simulated
 * NIC) computes the same value in O(1) with {@link #fold} and {@link #tail}.
 */
public final class Checksum {

    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED;

    private Checksum() {
    }

    /**
     * Reads the {@code len} bytes at {@code at}. Four lanes of additions only, so the loop has no
     * multiply and no long dependency chain: lane {@code j} sums {@code a[j] += w[4t + j]} and
     * {@code b[j] += a[j]}, so {@code b[j] = sum((T - t) * w[4t + j])} over the T rounds, and
     * {@code s2 = sum over j of 4 * (T * a[j] - b[j]) + j * a[j]}.
     */
    public static long of(MemorySegment buf, long at, int len) {
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
            a0 += buf.get(WORD, o);
            a1 += buf.get(WORD, o + 8);
            a2 += buf.get(WORD, o + 16);
            a3 += buf.get(WORD, o + 24);
            b0 += a0;
            b1 += a1;
            b2 += a2;
            b3 += a3;
        }
        long s1 = a0 + a1 + a2 + a3;
        long s2 = 4 * ((long) rounds * s1 - (b0 + b1 + b2 + b3)) + a1 + 2 * a2 + 3 * a3;
        for (int k = rounds << 2; k < n; k++) {
            long w = buf.get(WORD, at + 8L * k);
            s1 += w;
            s2 += w * k;
        }
        return fold(s1, s2, tail(buf, at + 8L * n, len & 7));
    }

    /** The bytes after the last whole word, each weighted by its place (1..7). */
    public static long tail(MemorySegment buf, long at, int bytes) {
        long tail = 0;
        for (int i = 0; i < bytes; i++) {
            tail += (buf.get(ValueLayout.JAVA_BYTE, at + i) & 0xff) * (long) (i + 1);
        }
        return tail;
    }

    /**
     * Folds the sums into the checksum. The weighted sum is multiplied (odd: nothing lost) and
     * rotated, so a change to one word, which moves both sums from the same bit upwards, cannot
     * cancel itself out in the fold (without the rotation, a flip of bit 61 in word 61 did).
     */
    public static long fold(long s1, long s2, long tail) {
        return s1 ^ Long.rotateLeft(s2 * 0x9E3779B97F4A7C15L, 29) ^ (tail * 31);
    }
}

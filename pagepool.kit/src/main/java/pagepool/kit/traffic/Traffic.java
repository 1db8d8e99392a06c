package pagepool.kit.traffic;

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
    public static final long MAGIC = 0x7070756470303031L; // "ppudp001"
    public static final int VERIFIED = 0;
    public static final int CORRUPT = 1;
    public static final int UNVERIFIABLE = 2;

    private Traffic() {
    }

    /**
     * Writes a datagram of {@code size} bytes at {@code at}: the header and a payload of
     * pseudo-random bytes drawn from {@code variant}, so that datagrams differ in their bytes.
     */
    public static void write(MemorySegment buf, long at, int size, long seq, int flow, long variant) {
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
    public static void sequence(MemorySegment buf, long at, long seq) {
        buf.set(JAVA_LONG_UNALIGNED, at + 8, seq);
    }

    /** A datagram's sequence number (with {@code UdpSender.sendStamped}, its send time). */
    public static long sequenceOf(MemorySegment buf, long at) {
        return buf.get(JAVA_LONG_UNALIGNED, at + 8);
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

    /** The checksum every pagepool traffic source writes ({@link Checksum}). */
    public static long checksum(MemorySegment buf, long at, int len) {
        return Checksum.of(buf, at, len);
    }
}

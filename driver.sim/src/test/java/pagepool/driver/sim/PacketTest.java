package pagepool.driver.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The consumer's checksum, every byte read, against the NIC's computed in O(1) from the template. */
class PacketTest {

    private final Arena arena = Arena.ofAuto();
    private final Packet.Template template = new Packet.Template(arena, 42);
    private final MemorySegment page = arena.allocate(8192, 4096);

    @Test
    void theConsumersChecksumIsTheNicsForEveryLengthAndOffset() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int len = Packet.MIN_SIZE - Packet.HEADER_LEN; len <= Packet.MAX_SIZE - Packet.HEADER_LEN; len++) {
            long seq = rnd.nextLong(1L << 40);
            int at = rnd.nextInt(64);
            Packet.writePayload(template, seq, page, at, len);
            assertEquals(template.checksum(seq, len), Packet.checksumOf(page, at, len), "length " + len + " at " + at);
        }
    }

    @Test
    void everyFlippedBitAndEverySwapOfTwoWordsChangesIt() {
        int len = 1436;
        long seq = 12345;
        Packet.writePayload(template, seq, page, 64, len);
        long good = template.checksum(seq, len);
        for (int bit = 0; bit < len * 8; bit++) {
            long at = 64 + bit / 8;
            byte b = page.get(ValueLayout.JAVA_BYTE, at);
            page.set(ValueLayout.JAVA_BYTE, at, (byte) (b ^ (1 << (bit % 8))));
            assertNotEquals(good, Packet.checksumOf(page, 64, len), "bit " + bit);
            page.set(ValueLayout.JAVA_BYTE, at, b);
        }
        for (int k = 0; k + 5 < len / 8; k++) {
            long a = page.get(ValueLayout.JAVA_LONG_UNALIGNED, 64 + 8L * k);
            long c = page.get(ValueLayout.JAVA_LONG_UNALIGNED, 64 + 8L * (k + 5));
            page.set(ValueLayout.JAVA_LONG_UNALIGNED, 64 + 8L * k, c);
            page.set(ValueLayout.JAVA_LONG_UNALIGNED, 64 + 8L * (k + 5), a);
            if (a != c) {
                assertNotEquals(good, Packet.checksumOf(page, 64, len), "words " + k + " and " + (k + 5) + " swapped");
            }
            page.set(ValueLayout.JAVA_LONG_UNALIGNED, 64 + 8L * k, a);
            page.set(ValueLayout.JAVA_LONG_UNALIGNED, 64 + 8L * (k + 5), c);
        }
        assertEquals(good, Packet.checksumOf(page, 64, len), "restored");
    }

    @Test
    void aWholePacketVerifies() {
        int len = 1436;
        Packet.writeHeader(page, 0, 99, len, 3, template.checksum(99, len));
        Packet.writePayload(template, 99, page, Packet.HEADER_LEN, len);
        assertNull(Packet.verify(template, page, 0, page, Packet.HEADER_LEN, 3));
        assertEquals("packet 99 of another queue", Packet.verify(template, page, 0, page, Packet.HEADER_LEN, 2));
    }
}

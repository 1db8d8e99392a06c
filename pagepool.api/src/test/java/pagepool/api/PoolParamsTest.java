package pagepool.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import pagepool.api.PoolParams.Builder;

/** Bad pool parameters, each refused by the builder with a message that names the value and what was expected. */
class PoolParamsTest {

    static Stream<Arguments> badParams() {
        return Stream.of(
                bad(b -> b.flags(0x10), "flags: 0x10 (expected: a combination of DMA_MAP 0x1, DMA_SYNC_DEV 0x2,"
                        + " ALLOW_UNREADABLE_NETMEM 0x4; unknown bits 0x10)"),
                bad(b -> b.flags(0x3 | 0x80), "flags: 0x83 (expected: a combination of DMA_MAP 0x1, DMA_SYNC_DEV 0x2,"
                        + " ALLOW_UNREADABLE_NETMEM 0x4; unknown bits 0x80)"),
                bad(b -> b.flags(PoolParams.DMA_SYNC_DEV).maxLen(1500), "flags: DMA_SYNC_DEV without DMA_MAP"
                        + " (expected: DMA_MAP too, a page must be mapped to be synced for the device)"),
                bad(b -> b.flags(PoolParams.DMA_MAP | PoolParams.DMA_SYNC_DEV), "maxLen: 0 with DMA_SYNC_DEV"
                        + " (expected: 1..4096, the number of bytes to sync for the device)"),
                bad(b -> b.order(-1), "order: -1 (expected: 0..10)"),
                bad(b -> b.order(11), "order: 11 (expected: 0..10)"),
                bad(b -> b.poolSize(0), "poolSize: 0 (expected: 1..16384)"),
                bad(b -> b.poolSize(16385), "poolSize: 16385 (expected: 1..16384)"),
                bad(b -> b.maxLen(-5), "maxLen: -5 (expected: 0..4096, the page size at order 0)"),
                bad(b -> b.maxLen(8193).order(1), "maxLen: 8193 (expected: 0..8192, the page size at order 1)"),
                bad(b -> b.offset(-1), "offset: -1 (expected: 0..4096, so that offset + maxLen 0 fits the page of 4096)"),
                bad(b -> b.offset(256).maxLen(4000), "offset: 256 (expected: 0..96, so that offset + maxLen 4000"
                        + " fits the page of 4096)"),
                bad(b -> b.nid(-2), "nid: -2 (expected: -1 for no node, or >= 0)"),
                bad(b -> b.contiguousPages(-1), "contiguousPages: -1 (expected: 0..1048576, 0 for memory from anywhere)"),
                bad(b -> b.contiguousPages((1 << 20) + 1), "contiguousPages: 1048577 (expected: 0..1048576, 0 for"
                        + " memory from anywhere)"));
    }

    private static Arguments bad(UnaryOperator<Builder> change, String message) {
        return Arguments.of(change, message);
    }

    @ParameterizedTest
    @MethodSource("badParams")
    void badParamsAreRefusedWithTheirMessage(UnaryOperator<Builder> change, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> change.apply(PoolParams.builder()).build());
        assertEquals(message, e.getMessage());
    }

    @Test
    void badQueueIdsAreRefused() {
        assertEquals("queue index: -1 (expected: >= 0)",
                assertThrows(IllegalArgumentException.class, () -> new QueueId("eth0", -1)).getMessage());
        assertEquals("device: ' ' (expected: a device name)",
                assertThrows(IllegalArgumentException.class, () -> new QueueId(" ", 0)).getMessage());
    }

    @Test
    void contiguousPagesAreKeptByToBuilderAndCountInEquality() {
        PoolParams p = PoolParams.builder().contiguousPages(4096).build();
        assertEquals(4096, p.contiguousPages());
        assertEquals(p, p.toBuilder().build());
        assertNotEquals(p, PoolParams.builder().build());
        assertTrue(p.toString().contains("contiguousPages=4096"), p.toString());
    }
}

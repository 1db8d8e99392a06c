package pagepool.driver.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class IotlbTest {

    @Test
    void repeatedAccessToOneMappingMissesOnce() {
        Iotlb t = new Iotlb(64, 4);
        for (int i = 0; i < 512; i++) {
            t.translate(0x40000000L + i * 4096L, 21); // 512 pages of one 2 MiB mapping
        }
        assertEquals(512, t.lookups);
        assertEquals(1, t.misses);
    }

    @Test
    void moreFourKiBMappingsThanEntriesMissEveryTimeInRoundRobin() {
        Iotlb t = new Iotlb(64, 4);
        for (int round = 0; round < 4; round++) {
            for (int i = 0; i < 1024; i++) {
                t.translate(0x40000000L + i * 4096L, 12);
            }
        }
        assertEquals(4096, t.lookups);
        assertEquals(4096, t.misses, "a ring of 1024 pages cycles through 64 entries: LRU never hits");
    }

    @Test
    void leastRecentlyUsedWayIsEvicted() {
        Iotlb t = new Iotlb(2, 2); // one set of two ways
        t.translate(0x1000, 12);
        t.translate(0x2000, 12);
        t.translate(0x1000, 12); // 0x1000 is now the most recent
        t.translate(0x3000, 12); // evicts 0x2000
        t.translate(0x1000, 12);
        assertEquals(3, t.misses);
        t.translate(0x2000, 12);
        assertEquals(4, t.misses);
    }

    @Test
    void badGeometryIsRefused() {
        assertEquals("iotlb: 48 entries, 4 ways (expected: entries a multiple of ways, with a power-of-2 number of sets)",
                assertThrows(IllegalArgumentException.class, () -> new Iotlb(48, 4)).getMessage());
    }
}

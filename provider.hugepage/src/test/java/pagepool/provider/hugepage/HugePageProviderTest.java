package pagepool.provider.hugepage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PoolParams;
import pagepool.api.provider.ProviderRefusedException;
import pagepool.api.testing.Configs;
import pagepool.api.testing.StubPoolContext;

/** The provider on its own, with a minimal pool context standing in for the engine. */
class HugePageProviderTest {

    private static final long TWO_MIB = 2L << 20;


    private static StubPoolContext pool(HugePageProvider p, int id) throws ProviderRefusedException {
        StubPoolContext c = new StubPoolContext(id, PoolParams.builder().build());
        p.init(c);
        return c;
    }

    @Test
    void eachHugePageIsCarvedInto512PagesUnderOneDmaMapping() throws Exception {
        HugePageProvider p = new HugePageProvider(2, TWO_MIB, false, false);
        StubPoolContext c = pool(p, 1);
        Netmem[] batch = new Netmem[64];
        Set<Long> mappings = new HashSet<>();
        Netmem first = null;
        for (int n = 0; n < 16; n++) { // 1024 pages: both huge pages
            assertEquals(64, p.allocNetmems(c, batch, 64));
            for (Netmem nm : batch) {
                if (first == null) {
                    first = nm;
                }
                assertEquals(4096, nm.size());
                assertEquals(21, nm.area().dmaMappingShift(), "one 2 MiB mapping");
                assertEquals(0, nm.area().dmaAddress() % TWO_MIB, "the mapping is 2 MiB aligned");
                assertEquals(nm.area().dmaAddress() + (long) nm.index() * 4096, nm.dmaAddress(), "IOVA inside it");
                mappings.add(nm.dmaAddress() >>> 21);
                nm.segment().set(ValueLayout.JAVA_LONG, 0, nm.dmaAddress());
            }
        }
        assertEquals(2, mappings.size(), "1024 pages, 2 IOVA ranges");
        assertEquals(first.dmaAddress(), first.segment().get(ValueLayout.JAVA_LONG, 0), "pages do not overlap");
        assertEquals(0, p.allocNetmems(c, batch, 64), "exhausted, policy fail");
        assertEquals(1L, p.describe(c).get("exhausted"));
    }

    @Test
    void exhaustionFallsBackToOrdinaryPagesThatGoBackOnRelease() throws Exception {
        HugePageProvider p = new HugePageProvider(1, TWO_MIB, true, false);
        StubPoolContext c = pool(p, 1);
        Netmem[] batch = new Netmem[64];
        for (int n = 0; n < 8; n++) {
            p.allocNetmems(c, batch, 64);
        }
        assertEquals(64, p.allocNetmems(c, batch, 64), "fallback pages");
        Netmem fb = batch[0];
        assertFalse(fb.area().isRecyclable(), "the pool returns them instead of caching them");
        assertEquals(12, fb.area().dmaMappingShift(), "ordinary pages are mapped one by one");
        assertTrue(p.releaseNetmem(c, fb), "released to the system, not kept");
        assertEquals(63L, p.describe(c).get("fallback-pages-out"));
    }

    @Test
    void memoryIsUnmappedOnlyWhenTheProviderIsGoneAndEveryPageIsBack() throws Exception {
        HugePageProvider p = new HugePageProvider(1, TWO_MIB, false, false);
        StubPoolContext c = pool(p, 1);
        Netmem[] batch = new Netmem[1];
        p.allocNetmems(c, batch, 1);

        p.deactivate();
        assertFalse(p.isUnmapped(), "a page is still out");
        batch[0].segment().set(ValueLayout.JAVA_LONG, 0, 42L); // still mapped: no crash
        assertThrows(IllegalStateException.class, () -> p.destroy(c), "the pool cannot be destroyed with a page out");
        assertThrows(ProviderRefusedException.class, () -> pool(p, 2), "no new pools while closing");

        p.releaseNetmem(c, batch[0]);
        p.destroy(c);
        assertTrue(p.isUnmapped(), "the last page is back: munmap");
    }

    @Test
    void aDestroyedPoolsHugePagesServeTheNextPool() throws Exception {
        HugePageProvider p = new HugePageProvider(1, TWO_MIB, false, false);
        StubPoolContext a = pool(p, 1);
        Netmem[] batch = new Netmem[1];
        p.allocNetmems(a, batch, 1);
        long dma = batch[0].dmaAddress();
        p.releaseNetmem(a, batch[0]);
        p.destroy(a);
        StubPoolContext b = pool(p, 2);
        p.allocNetmems(b, batch, 1);
        assertEquals(dma, batch[0].dmaAddress());
        p.deactivate();
        p.releaseNetmem(b, batch[0]);
        p.destroy(b);
        assertTrue(p.isUnmapped());
    }

    @Test
    void transparentHugePagesAreReallyObtainedWhereTheKernelOffersThem() {
        String mode = Smaps.thpMode();
        assumeTrue(mode.equals("madvise") || mode.equals("always"),
                "transparent huge pages are '" + mode + "' on this machine: nothing to obtain");
        HugePageProvider p = new HugePageProvider(4, TWO_MIB, false, false);
        HugeRegion r = p.region();
        assertEquals(HugeRegion.Backing.THP, r.backing, r.toString());
        assertEquals(4, r.hugePagesObtained(), "smaps shows every huge page backed: " + r);
        p.deactivate();
        assertTrue(p.isUnmapped());
    }

    @Test
    void badSettingsAreRefusedAndTheLastGoodOnesStay() {
        HugePageProvider p = new HugePageProvider(Configs.of(HugePageProvider.Config.class, Map.of()), Map.of(), null);
        HugeRegion first = p.region();
        Map<String, Object> bad = Map.of("pages", "0", "page.size", "3M", "on.exhaustion", "drop", "hugetlb", "maybe");
        p.modified(Configs.of(HugePageProvider.Config.class, bad), bad);
        assertEquals(first, p.region(), "nothing remapped");
        assertEquals("pages: 0 (expected: 1..65536); page.size: '3M' (expected: one of 1g, 1gb, 1gib, 2m, 2mb, 2mib);"
                + " on.exhaustion: 'drop' (expected: one of fail, fallback); hugetlb: 'maybe' (expected: true or false);"
                + " the provider keeps pages=16, page.size=2M, hugetlb=true, on.exhaustion=fallback",
                p.report().standing().message());
        assertEquals("pages: 0 (expected: 1..65536)", assertThrows(IllegalArgumentException.class,
                () -> new HugePageProvider(0, TWO_MIB, false, false)).getMessage());

        Map<String, Object> good = Map.of("pages", "2", "hugetlb", "false");
        p.modified(Configs.of(HugePageProvider.Config.class, good), good);
        assertNull(p.report().standing(), "the refusal is withdrawn");
        assertNotEquals(first, p.region(), "a new region for new pools");
        assertEquals(2, p.region().count);
        assertTrue(first.isUnmapped(), "no pool held the old region: unmapped at once");
        p.deactivate();
    }

    @Test
    void aStaleReadAfterUnmapThrowsInsteadOfReadingOtherMemory() throws Exception {
        HugePageProvider p = new HugePageProvider(1, TWO_MIB, false, false);
        StubPoolContext c = pool(p, 1);
        Netmem[] batch = new Netmem[1];
        p.allocNetmems(c, batch, 1);
        java.lang.foreign.MemorySegment page = batch[0].segment();
        p.releaseNetmem(c, batch[0]);
        p.destroy(c);
        p.deactivate();
        assertTrue(p.isUnmapped());
        assertThrows(IllegalStateException.class, () -> page.get(ValueLayout.JAVA_LONG, 0));
    }

    @Test
    void aContiguousPoolTakesAdjacentHugePagesAndHandsOutOnlyItsPages() throws Exception {
        HugePageProvider p = new HugePageProvider(4, TWO_MIB, false, false);
        try {
            StubPoolContext a = new StubPoolContext(1, PoolParams.builder().contiguousPages(700).build());
            p.init(a);
            Netmem[] batch = new Netmem[1024];
            int n = p.allocNetmems(a, batch, 1024);
            assertEquals(700, n, "exactly the pages asked for");
            assertEquals(0, p.allocNetmems(a, batch, 1), "no page outside the range, no fallback page");
            long lo = Long.MAX_VALUE;
            long hi = 0;
            for (int i = 0; i < n; i++) {
                long at = batch[i].area().memory().address() + ((long) batch[i].index() << 12);
                lo = Math.min(lo, at);
                hi = Math.max(hi, at + 4096);
            }
            assertEquals(700L * 4096, hi - lo, "one contiguous range over two adjacent huge pages");
            StubPoolContext b = new StubPoolContext(2, PoolParams.builder().contiguousPages(3 * 512).build());
            ProviderRefusedException e = assertThrows(ProviderRefusedException.class, () -> p.init(b));
            assertEquals("3 adjacent huge pages of 2 MiB for contiguous memory (expected: that many free in a row; 2 of"
                    + " 4 are free)", e.getMessage());
            for (int i = 0; i < n; i++) {
                p.releaseNetmem(a, batch[i]);
            }
            p.destroy(a);
        } finally {
            p.deactivate();
        }
    }
}

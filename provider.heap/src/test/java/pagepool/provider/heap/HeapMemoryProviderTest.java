package pagepool.provider.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PoolParams;
import pagepool.api.provider.ProviderRefusedException;
import pagepool.api.testing.Configs;
import pagepool.api.testing.StubPoolContext;

/** The heap provider on its own, with a minimal pool context standing in for the engine. */
class HeapMemoryProviderTest {


    private final HeapMemoryProvider heap = new HeapMemoryProvider(1L << 20);

    @Test
    void pagesAreDistinctAlignedReadableAndDmaAddressedAtTheirMemory() throws ProviderRefusedException {
        StubPoolContext ctx = new StubPoolContext(PoolParams.builder().build());
        heap.init(ctx);
        Netmem[] batch = new Netmem[64];
        assertEquals(64, heap.allocNetmems(ctx, batch, 64));
        Set<Long> addresses = new HashSet<>();
        for (Netmem nm : batch) {
            assertTrue(nm.isReadable());
            assertEquals("heap", nm.provider());
            assertEquals(4096, nm.size());
            assertEquals(0, nm.dmaAddress() % 4096, "page aligned");
            assertEquals(nm.segment().address(), nm.dmaAddress(), "identity-mapped IOVA");
            assertEquals(12, nm.area().dmaMappingShift(), "each page mapped on its own");
            assertTrue(addresses.add(nm.dmaAddress()));
            nm.segment().set(ValueLayout.JAVA_LONG, 4088, nm.dmaAddress());
        }
        for (Netmem nm : batch) {
            assertEquals(nm.dmaAddress(), nm.segment().get(ValueLayout.JAVA_LONG, 4088), "pages do not overlap");
        }
        assertEquals(64L, heap.describe(ctx).get("pages-out"));
    }

    @Test
    void releasedPagesAreReusedAndADestroyedPoolsSlabsServeTheNextPool() throws ProviderRefusedException {
        StubPoolContext ctx = new StubPoolContext(PoolParams.builder().build());
        heap.init(ctx);
        Netmem[] batch = new Netmem[8];
        heap.allocNetmems(ctx, batch, 8);
        Netmem first = batch[0];
        for (Netmem nm : batch) {
            assertEquals(false, heap.releaseNetmem(ctx, nm), "the provider keeps its pages");
        }
        assertEquals(8, heap.allocNetmems(ctx, batch, 8));
        assertTrue(List.of(batch).contains(first), "a released page is handed out again");
        for (Netmem nm : batch) {
            heap.releaseNetmem(ctx, nm);
        }
        heap.destroy(ctx);
        assertThrows(IllegalStateException.class, () -> heap.allocNetmems(ctx, batch, 1), "a destroyed pool allocates nothing");

        StubPoolContext next = new StubPoolContext(PoolParams.builder().build());
        heap.init(next);
        heap.allocNetmems(next, batch, 1);
        assertEquals(first.dmaAddress(), batch[0].dmaAddress(), "the slab came from the cache");
        assertEquals(1L, heap.slabCounts()[0], "one slab allocated");
        assertEquals(1L, heap.slabCounts()[1], "and reused once");
    }

    @Test
    void slabsBeyondTheCacheBoundAreDropped() throws ProviderRefusedException {
        HeapMemoryProvider small = new HeapMemoryProvider(1L << 20, 0);
        StubPoolContext ctx = new StubPoolContext(PoolParams.builder().build());
        small.init(ctx);
        Netmem[] batch = new Netmem[1];
        small.allocNetmems(ctx, batch, 1);
        small.releaseNetmem(ctx, batch[0]);
        small.destroy(ctx);
        StubPoolContext next = new StubPoolContext(PoolParams.builder().build());
        small.init(next);
        small.allocNetmems(next, batch, 1);
        assertEquals(2L, small.slabCounts()[0], "no cache: a new slab");
    }

    @Test
    void destroyWithPagesOutIsRefused() throws ProviderRefusedException {
        StubPoolContext ctx = new StubPoolContext(PoolParams.builder().build());
        heap.init(ctx);
        heap.allocNetmems(ctx, new Netmem[1], 1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.destroy(ctx));
        assertEquals("heap memory of pool 1 destroyed with 1 pages out", e.getMessage());
    }

    @Test
    void poolMaxBytesBoundsThePool() throws ProviderRefusedException {
        StubPoolContext ctx = new StubPoolContext(PoolParams.builder().build());
        heap.init(ctx);
        List<Netmem> all = new ArrayList<>();
        Netmem[] batch = new Netmem[64];
        int n;
        while ((n = heap.allocNetmems(ctx, batch, 64)) > 0) {
            all.addAll(List.of(batch).subList(0, n));
        }
        assertEquals((1 << 20) / 4096, all.size());
        assertEquals(1L << 20, heap.describe(ctx).get("reserved-bytes"));
    }

    @Test
    void higherOrdersGetPagesOfTheirSize() throws ProviderRefusedException {
        StubPoolContext ctx = new StubPoolContext(PoolParams.builder().order(3).build());
        heap.init(ctx);
        Netmem[] batch = new Netmem[1];
        assertEquals(1, heap.allocNetmems(ctx, batch, 1));
        assertEquals(32768, batch[0].size());
        assertEquals(0, batch[0].dmaAddress() % 32768);
    }

    @Test
    void badSettingsAreRefused() {
        assertEquals("pool.max.bytes: 100 (expected: >= 262144, one slab)",
                assertThrows(IllegalArgumentException.class, () -> new HeapMemoryProvider(100)).getMessage());
        HeapMemoryProvider tiny = new HeapMemoryProvider(256 * 1024);
        ProviderRefusedException e = assertThrows(ProviderRefusedException.class,
                () -> tiny.init(new StubPoolContext(PoolParams.builder().order(7).build())));
        assertEquals("page size 524288 exceeds pool.max.bytes 262144", e.getMessage());
    }

    @Test
    void aConfigurationThatCannotApplyIsRefusedAndTheLastGoodOneStays() throws ProviderRefusedException {
        Map<String, Object> good = Map.of("pool.max.bytes", "1048576");
        HeapMemoryProvider p = new HeapMemoryProvider(Configs.of(HeapMemoryProvider.Config.class, good), good, null);
        Map<String, Object> bad = Map.of("pool.max.bytes", "100", "slab.cache.bytes", "lots");
        p.modified(Configs.of(HeapMemoryProvider.Config.class, bad), bad);

        StubPoolContext ctx = new StubPoolContext(PoolParams.builder().build());
        p.init(ctx);
        Netmem[] batch = new Netmem[64];
        int pages = 0;
        for (int n; (n = p.allocNetmems(ctx, batch, 64)) > 0;) {
            pages += n;
        }
        assertEquals(256, pages, "still 1 MiB per pool, the last good limit");
    }

    @Test
    void aContiguousPoolGetsOneSlabOfItsSizeAndNoMore() throws ProviderRefusedException {
        StubPoolContext ctx = new StubPoolContext(PoolParams.builder().contiguousPages(100).build());
        heap.init(ctx);
        Netmem[] batch = new Netmem[256];
        int n = heap.allocNetmems(ctx, batch, 256);
        assertEquals(100, n, "exactly the pages asked for");
        assertEquals(0, heap.allocNetmems(ctx, batch, 1), "no page outside the range");
        MemoryArea area = batch[0].area();
        for (int i = 0; i < n; i++) {
            assertTrue(batch[i].area() == area, "one area: " + batch[i]);
        }
        assertEquals(100L * 4096, area.byteSize());
        for (int i = 0; i < n; i++) {
            heap.releaseNetmem(ctx, batch[i]);
        }
        heap.destroy(ctx);
        StubPoolContext tooBig = new StubPoolContext(PoolParams.builder().contiguousPages(1024).build());
        ProviderRefusedException e = assertThrows(ProviderRefusedException.class, () -> new HeapMemoryProvider(1L << 20)
                .init(tooBig));
        assertEquals("contiguous memory of 1024 pages (4194304 bytes) exceeds pool.max.bytes 1048576", e.getMessage());
    }
}

package pagepool.provider.devmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PoolParams;
import pagepool.api.UnreadableNetmemException;
import pagepool.api.provider.ProviderRefusedException;
import pagepool.api.testing.StubPoolContext;

/** One binding's provider on its own: carving, the shared free pool, exhaustion and recovery, draining. */
class DevmemProviderTest {


    private final AtomicInteger drained = new AtomicInteger();
    private final DmaBuf buffer = new DmaBuf(1, 16 * 4096, "test", DevmemRegistry.IOVA_BASE);
    private final DevmemProvider provider = new DevmemProvider(7, buffer, "sim0", List.of(1, 2), drained::incrementAndGet);
    private final StubPoolContext pool = new StubPoolContext(PoolParams.builder().build());

    @Test
    void theBufferIsCarvedIntoUnreadableChunksSharedByTheBindingsQueues() throws Exception {
        provider.init(pool);
        StubPoolContext second = new StubPoolContext(PoolParams.builder().build());
        provider.init(second);
        Netmem[] batch = new Netmem[16];
        assertEquals(10, provider.allocNetmems(pool, batch, 10));
        assertEquals(6, provider.allocNetmems(second, batch, 16), "one free pool for both queues");
        Netmem nm = batch[0];
        assertFalse(nm.isReadable());
        assertEquals("devmem-7", nm.provider());
        assertEquals(DevmemRegistry.IOVA_BASE + (long) nm.index() * 4096, nm.dmaAddress(),
                "an IOVA of the device, not the host address of the memory behind it");
        assertEquals(1, nm.area().bufferId(), "frag descriptors name the dma-buf");
        UnreadableNetmemException e = assertThrows(UnreadableNetmemException.class, nm::segment);
        assertTrue(e.getMessage().contains("is unreadable (device memory): the CPU cannot read or write it"),
                e.getMessage());
    }

    @Test
    void aPoolAskingForContiguousPagesIsRefusedNotGivenSharedChunks() {
        StubPoolContext umem = new StubPoolContext(PoolParams.builder().contiguousPages(8).build());
        ProviderRefusedException e = assertThrows(ProviderRefusedException.class, () -> provider.init(umem));
        assertEquals("contiguousPages 8 (expected: 0, a binding's chunks are shared by its queues, not one pool's range)",
                e.getMessage());
    }

    @Test
    void exhaustionStopsAllocationAndReleasesRecoverIt() throws Exception {
        provider.init(pool);
        Netmem[] batch = new Netmem[16];
        assertEquals(16, provider.allocNetmems(pool, batch, 16));
        assertEquals(0, provider.allocNetmems(pool, new Netmem[1], 1), "every chunk is out");
        assertFalse(provider.releaseNetmem(pool, batch[3]), "the provider keeps its chunks");
        Netmem[] again = new Netmem[1];
        assertEquals(1, provider.allocNetmems(pool, again, 1));
        assertEquals(batch[3], again[0]);
    }

    @Test
    void theDeviceViewGoesToThePoolAloneAndWritesAndReadsDeviceMemory() throws Exception {
        provider.init(pool);
        Netmem[] batch = new Netmem[2];
        provider.allocNetmems(pool, batch, 2);
        pagepool.api.DeviceMemory view = pool.devices.get(batch[1].area());
        assertEquals(buffer, view, "handed to the pool with the area, not kept in the area");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocate(8);
            src.set(ValueLayout.JAVA_LONG, 0, 0x1234_5678L);
            MemorySegment dst = a.allocate(8);
            long at = (long) batch[1].index() * 4096 + 100;
            view.write(at, src, 0, 8);
            view.read(at, dst, 0, 8);
            assertEquals(0x1234_5678L, dst.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    @Test
    void ordersAboveZeroAndForeignChunksAreRefused() throws Exception {
        assertEquals("order 1 (expected: 0, net_iovs are 4 KiB)", assertThrows(ProviderRefusedException.class,
                () -> provider.init(new StubPoolContext(PoolParams.builder().order(1).build()))).getMessage());
        provider.init(pool);
        Netmem foreign = new Netmem(MemoryArea.unreadable("x", 1L << 40, 4096).build(), 0) { };
        assertThrows(IllegalArgumentException.class, () -> provider.releaseNetmem(pool, foreign));
    }

    @Test
    void anUnboundBindingDrainsAfterItsLastChunkAndPool() throws Exception {
        provider.init(pool);
        Netmem[] batch = new Netmem[1];
        provider.allocNetmems(pool, batch, 1);
        provider.unbind();
        assertEquals(0, drained.get(), "a chunk is still out");
        assertThrows(ProviderRefusedException.class, () -> provider.init(new StubPoolContext(PoolParams.builder().build())));
        provider.releaseNetmem(pool, batch[0]);
        provider.destroy(pool);
        assertEquals(1, drained.get());
    }

    @Test
    void bufferSizesAreChecked() {
        assertEquals("size: 5000 (expected: a positive multiple of 4096)",
                assertThrows(IllegalArgumentException.class, () -> new DmaBuf(2, 5000, "t", DevmemRegistry.IOVA_BASE)).getMessage());
    }
}

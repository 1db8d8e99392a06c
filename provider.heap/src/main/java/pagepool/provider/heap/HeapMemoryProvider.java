package pagepool.provider.heap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PoolParams;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * Ordinary memory, the default provider. Each pool gets its own shared {@link Arena}; pages are
 * cut from 256 KiB slabs (64 pages of 4 KiB, the kernel's bulk size), each slab one
 * {@link MemoryArea} with one DMA mapping per page, as the buddy allocator's pages are mapped
 * one by one. Released pages stay with the pool's free list until the pool is destroyed, when
 * the arena is closed and the memory goes back to the OS.
 *
 * <p>Why off-heap: a NIC DMA-writes to a fixed address, and a Java array moves with the GC;
 * off-heap slabs have stable addresses that serve as IOVAs, cost the GC nothing per page, look
 * the same to drivers as huge or device memory, and are freed when the pool is, not when a
 * collector gets to them.
 */
@Component(service = MemoryProvider.class, configurationPid = "pagepool.provider.heap",
        property = {MemoryProvider.NAME + "=" + HeapMemoryProvider.NAME, MemoryProvider.DEFAULT + ":Boolean=true"})
@Designate(ocd = HeapMemoryProvider.Config.class)
public final class HeapMemoryProvider implements MemoryProvider {

    public static final String NAME = "heap";
    static final long SLAB_BYTES = 256 * 1024;

    @ObjectClassDefinition(name = "pagepool heap provider", description = "Ordinary off-heap pages")
    public @interface Config {
        @AttributeDefinition(description = "Most bytes one pool may take; allocations beyond fail and the driver drops")
        long pool_max_bytes() default 1L << 30;
    }

    private final long poolMaxBytes;

    @Activate
    public HeapMemoryProvider(Config config) {
        this(config.pool_max_bytes());
    }

    /** @param poolMaxBytes most bytes one pool may take */
    public HeapMemoryProvider(long poolMaxBytes) {
        if (poolMaxBytes < 4096) {
            throw new IllegalArgumentException("pool_max_bytes: " + poolMaxBytes + " (expected: >= 4096)");
        }
        this.poolMaxBytes = poolMaxBytes;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ProviderCapabilities capabilities() {
        return ProviderCapabilities.hostPages();
    }

    @Override
    public void init(PoolContext pool) throws ProviderRefusedException {
        PoolParams p = pool.params();
        if (p.pageSize() > poolMaxBytes) {
            throw new ProviderRefusedException("page size " + p.pageSize() + " exceeds pool_max_bytes " + poolMaxBytes);
        }
        pool.attach(new HeapPoolMemory(pool, p.pageSize(), Math.max(0, p.nid()), poolMaxBytes));
    }

    @Override
    public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        return memory(pool).alloc(batch, max);
    }

    @Override
    public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        memory(pool).release(netmem);
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
        memory(pool).close();
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        return memory(pool).describe();
    }

    private static HeapPoolMemory memory(PoolContext pool) {
        return (HeapPoolMemory) pool.attachment();
    }

    /** One pool's memory: its arena, slabs, free pages and counts. */
    static final class HeapPoolMemory {
        private final PoolContext pool;
        private final Arena arena = Arena.ofShared();
        private final int pageSize;
        private final int node;
        private final long maxBytes;
        private final int slabPages;
        private Netmem[] free = new Netmem[64];
        private int freeCount;
        private long reservedBytes;
        private long handedOut;
        private long returned;
        private boolean closed;

        HeapPoolMemory(PoolContext pool, int pageSize, int node, long maxBytes) {
            this.pool = pool;
            this.pageSize = pageSize;
            this.node = node;
            this.maxBytes = maxBytes;
            this.slabPages = (int) Math.max(1, SLAB_BYTES / pageSize);
        }

        synchronized int alloc(Netmem[] batch, int max) {
            if (closed) {
                throw new IllegalStateException("heap memory of pool " + pool.id() + " is destroyed");
            }
            if (freeCount == 0 && !growSlab()) {
                return 0;
            }
            int n = Math.min(max, freeCount);
            for (int i = 0; i < n; i++) {
                batch[i] = free[--freeCount];
                free[freeCount] = null;
            }
            handedOut += n;
            return n;
        }

        private boolean growSlab() {
            int pages = (int) Math.min(slabPages, (maxBytes - reservedBytes) / pageSize);
            if (pages <= 0) {
                return false;
            }
            MemorySegment slab = arena.allocate((long) pages * pageSize, pageSize);
            MemoryArea area = MemoryArea.readable(NAME, slab).pageShift(Integer.numberOfTrailingZeros(pageSize))
                    .node(node).build();
            Netmem[] carved = pool.carve(area);
            ensureFree(freeCount + carved.length);
            // Hand out low addresses first: the free list is a stack.
            for (int i = carved.length - 1; i >= 0; i--) {
                free[freeCount++] = carved[i];
            }
            reservedBytes += slab.byteSize();
            return true;
        }

        synchronized void release(Netmem netmem) {
            if (!NAME.equals(netmem.provider()) || !netmem.isReadable()) {
                throw new IllegalArgumentException(netmem + " given back to the heap provider is not heap memory");
            }
            ensureFree(freeCount + 1);
            free[freeCount++] = netmem;
            returned++;
        }

        private void ensureFree(int capacity) {
            if (capacity > free.length) {
                free = java.util.Arrays.copyOf(free, Math.max(capacity, free.length * 2));
            }
        }

        synchronized void close() {
            if (handedOut != returned) {
                throw new IllegalStateException("heap memory of pool " + pool.id() + " destroyed with "
                        + (handedOut - returned) + " pages out");
            }
            closed = true;
            free = new Netmem[0];
            freeCount = 0;
            arena.close();
        }

        synchronized Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("reserved-bytes", reservedBytes);
            m.put("free-pages", freeCount);
            m.put("pages-out", handedOut - returned);
            m.put("pages-handed-out", handedOut);
            m.put("pages-returned", returned);
            return m;
        }
    }
}

package pagepool.provider.heap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.Checks;
import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PoolParams;
import pagepool.kit.config.ConfigReport;
import pagepool.kit.config.ConfigValues;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * Ordinary memory, the default provider. Pages are cut from 256 KiB off-heap slabs (64 pages
 * of 4 KiB, the kernel's bulk size); each slab is one {@link MemoryArea} with one DMA mapping
 * per page, as the buddy allocator's pages are mapped one by one. A pool keeps the slabs it took
 * and their free pages; when the pool is destroyed (every page back), its slabs return to the
 * provider's slab cache for the next pool, so a queue restart does not allocate, zero and map
 * fresh memory. Slabs beyond the cache's bound are dropped and their memory goes back to the OS
 * once nothing references it. A pool that asks for contiguous pages (an AF_XDP UMEM) gets one
 * slab of exactly that many pages, its own and never cached.
 *
 * <p>Why off-heap: a NIC DMA-writes to a fixed address, and a Java array moves with the GC;
 * off-heap slabs have stable addresses that serve as IOVAs, cost the GC nothing per page, and
 * look the same to drivers as huge or device memory. Each slab lives in an automatic arena, so
 * its memory can only be freed when no netmem of it is reachable: never under a reader.
 */
@Component(service = MemoryProvider.class, configurationPid = "pagepool.provider.heap",
        property = {MemoryProvider.NAME + "=" + HeapMemoryProvider.NAME, MemoryProvider.DEFAULT + ":Boolean=true"})
@Designate(ocd = HeapMemoryProvider.Config.class)
public final class HeapMemoryProvider implements MemoryProvider {

    public static final String NAME = "heap";
    static final long SLAB_BYTES = 256 * 1024;
    static final long DEFAULT_CACHE_BYTES = 64L << 20;

    @ObjectClassDefinition(name = "pagepool heap provider", description = "Ordinary off-heap pages")
    public @interface Config {
        @AttributeDefinition(description = "Most bytes one pool may take; allocations beyond fail and the driver drops")
        long pool_max_bytes() default 1L << 30;

        @AttributeDefinition(description = "Most bytes of free slabs kept for the next pools")
        long slab_cache_bytes() default DEFAULT_CACHE_BYTES;
    }

    /** A slab: its memory and the netmems carved from it, reused by pool after pool. */
    record Slab(MemorySegment memory, Netmem[] netmems) {
    }

    private volatile long poolMaxBytes;
    private volatile long cacheBytes;
    private final ConfigReport report;
    // Free slabs by page shift; guarded by itself.
    private final Map<Integer, ArrayDeque<Slab>> slabCache = new LinkedHashMap<>();
    private long cachedBytes;
    private long slabsAllocated;
    private long slabsReused;

    /**
     * A configuration that cannot apply is refused (one line, and a {@code ConfigProblem}
     * service) and the provider runs with its defaults: the default provider never goes away
     * for a typo.
     */
    @Activate
    public HeapMemoryProvider(Config config, Map<String, Object> props, BundleContext context) {
        this.report = new ConfigReport(context);
        Config d = ConfigValues.defaults(Config.class);
        this.poolMaxBytes = d.pool_max_bytes();
        this.cacheBytes = d.slab_cache_bytes();
        modified(config, props);
    }

    /** @param poolMaxBytes most bytes one pool may take */
    public HeapMemoryProvider(long poolMaxBytes) {
        this(poolMaxBytes, DEFAULT_CACHE_BYTES);
    }

    public HeapMemoryProvider(long poolMaxBytes, long cacheBytes) {
        if (poolMaxBytes < SLAB_BYTES) {
            throw Checks.invalid("pool.max.bytes", poolMaxBytes, ">= " + SLAB_BYTES + ", one slab");
        }
        Checks.atLeast("slab.cache.bytes", cacheBytes, 0);
        this.poolMaxBytes = poolMaxBytes;
        this.cacheBytes = cacheBytes;
        this.report = new ConfigReport(null);
    }

    /** New limits apply in place, to allocations and caching from now on. */
    @Modified
    void modified(Config config, Map<String, Object> props) {
        ConfigValues v = new ConfigValues(props);
        v.noUnknownKeys(Config.class, MemoryProvider.NAME, MemoryProvider.DEFAULT);
        long max = v.integer("pool.max.bytes", config::pool_max_bytes, SLAB_BYTES, 1L << 50);
        long cache = v.integer("slab.cache.bytes", config::slab_cache_bytes, 0, 1L << 50);
        if (!v.ok()) {
            report.refuse(v.source(), "provider heap", v.message() + "; the heap provider keeps pool.max.bytes="
                    + poolMaxBytes + ", slab.cache.bytes=" + cacheBytes);
            return;
        }
        report.clear();
        poolMaxBytes = max;
        cacheBytes = cache;
    }

    @Deactivate
    void deactivate() {
        report.close();
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
            throw new ProviderRefusedException("page size " + p.pageSize() + " exceeds pool.max.bytes " + poolMaxBytes);
        }
        long contiguous = (long) p.contiguousPages() * p.pageSize();
        if (contiguous > poolMaxBytes) {
            throw new ProviderRefusedException("contiguous memory of " + p.contiguousPages() + " pages (" + contiguous
                    + " bytes) exceeds pool.max.bytes " + poolMaxBytes);
        }
        HeapPoolMemory m = new HeapPoolMemory(pool, p.pageSize(), Math.max(0, p.nid()), p.contiguousPages());
        if (p.contiguousPages() > 0) {
            m.grow(); // the whole range now, under init's budget: zeroing 64 MiB is no page-call's work
        }
        pool.attach(m);
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
        for (Slab s : memory(pool).close()) {
            cache(s);
        }
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        Map<String, Object> m = memory(pool).describe();
        synchronized (slabCache) {
            m.put("slab-cache-bytes", cachedBytes);
        }
        return m;
    }

    private static HeapPoolMemory memory(PoolContext pool) {
        return (HeapPoolMemory) pool.attachment();
    }

    /** A slab of this page size: from the cache, else new memory carved by the pool. */
    private Slab slab(PoolContext pool, int pageSize, int node) {
        int shift = Integer.numberOfTrailingZeros(pageSize);
        synchronized (slabCache) {
            ArrayDeque<Slab> free = slabCache.get(shift);
            Slab s = free == null ? null : free.poll();
            if (s != null && s.netmems()[0].area().node() == node) {
                cachedBytes -= s.memory().byteSize();
                slabsReused++;
                return s;
            }
            if (s != null) {
                free.addFirst(s);
            }
            slabsAllocated++;
        }
        long bytes = Math.max(pageSize, SLAB_BYTES);
        MemorySegment memory = Arena.ofAuto().allocate(bytes, pageSize);
        MemoryArea area = MemoryArea.readable(NAME, memory).pageShift(shift).node(node).build();
        return new Slab(memory, pool.carve(area));
    }

    private void cache(Slab s) {
        synchronized (slabCache) {
            if (cachedBytes + s.memory().byteSize() <= cacheBytes) {
                slabCache.computeIfAbsent(s.netmems()[0].area().pageShift(), k -> new ArrayDeque<>()).add(s);
                cachedBytes += s.memory().byteSize();
            }
        }
    }

    /** Slabs allocated fresh and slabs taken from the cache, over the provider's life. */
    long[] slabCounts() {
        synchronized (slabCache) {
            return new long[] {slabsAllocated, slabsReused};
        }
    }

    /** One pool's memory: the slabs it took, its free pages and its counts. */
    final class HeapPoolMemory {
        private final PoolContext pool;
        private final int pageSize;
        private final int node;
        /** 0, or the pool's size as one slab of its own (never cached: its size is the pool's). */
        private final int contiguousPages;
        private final List<Slab> slabs = new ArrayList<>();
        private Netmem[] free = new Netmem[64];
        private int freeCount;
        private long reservedBytes;
        private long handedOut;
        private long returned;
        private boolean closed;

        HeapPoolMemory(PoolContext pool, int pageSize, int node, int contiguousPages) {
            this.pool = pool;
            this.pageSize = pageSize;
            this.node = node;
            this.contiguousPages = contiguousPages;
        }

        synchronized int alloc(Netmem[] batch, int max) {
            if (closed) {
                throw new IllegalStateException("heap memory of pool " + pool.id() + " is destroyed");
            }
            if (freeCount == 0 && !grow()) {
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

        private synchronized boolean grow() {
            if (contiguousPages > 0 && !slabs.isEmpty()) {
                return false; // the one range the pool may have is out
            }
            Slab s;
            if (contiguousPages > 0) {
                MemorySegment memory = Arena.ofAuto().allocate((long) contiguousPages * pageSize, pageSize);
                s = new Slab(memory, pool.carve(MemoryArea.readable(NAME, memory)
                        .pageShift(Integer.numberOfTrailingZeros(pageSize)).node(node).build()));
            } else if (reservedBytes + Math.max(pageSize, SLAB_BYTES) > poolMaxBytes) {
                return false;
            } else {
                s = slab(pool, pageSize, node);
            }
            slabs.add(s);
            Netmem[] carved = s.netmems();
            ensureFree(freeCount + carved.length);
            // Hand out low addresses first: the free list is a stack.
            for (int i = carved.length - 1; i >= 0; i--) {
                free[freeCount++] = carved[i];
            }
            reservedBytes += s.memory().byteSize();
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
                free = Arrays.copyOf(free, Math.max(capacity, free.length * 2));
            }
        }

        /** Ends the pool's use of its slabs and hands them back, refusing while pages are out. */
        synchronized List<Slab> close() {
            if (handedOut != returned) {
                throw new IllegalStateException("heap memory of pool " + pool.id() + " destroyed with "
                        + (handedOut - returned) + " pages out");
            }
            closed = true;
            free = new Netmem[0];
            freeCount = 0;
            List<Slab> out = contiguousPages > 0 ? List.of() : List.copyOf(slabs);
            slabs.clear();
            return out;
        }

        synchronized Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("reserved-bytes", reservedBytes);
            if (contiguousPages > 0) {
                m.put("contiguous-pages", contiguousPages);
            }
            m.put("free-pages", freeCount);
            m.put("pages-out", handedOut - returned);
            m.put("pages-handed-out", handedOut);
            m.put("pages-returned", returned);
            return m;
        }
    }
}

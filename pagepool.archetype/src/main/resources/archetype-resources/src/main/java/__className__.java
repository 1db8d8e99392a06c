package ${package};

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * The {@code ${providerName}} memory provider: each pool gets one region of off-heap memory of
 * {@code pool.pages} pages (or the contiguous pages it asks for), carved once into pages and handed
 * out from the pool's free list. Replace {@link #region} with where your memory comes from; the rest
 * is what every provider owes the pool: refuse in {@code init} (never in a page call), never more
 * pages than asked, 0 when empty, and memory let go of only at {@code destroy}, which the pool
 * calls after its last page came back, even when this bundle stopped long before.
 *
 * <p>A destroyed pool's region is kept for the next pool of its size (a queue's restart destroys
 * one pool and makes another) and freed when the provider stops: closing a shared arena stops every
 * thread of the process at a handshake and deoptimizes the NAPI threads reading pages, which took a
 * queue swap's p99 from ~0.15 ms to 0.4–5 ms when each pool closed its own.
 */
@Component(service = MemoryProvider.class, configurationPid = "${package}",
        property = MemoryProvider.NAME + "=" + ${className}.NAME)
@Designate(ocd = ${className}.Config.class)
public final class ${className} implements MemoryProvider {

    public static final String NAME = "${providerName}";

    @ObjectClassDefinition(name = "${providerName} provider", description = "Pages for pagepool's pools")
    public @interface Config {
        @AttributeDefinition(description = "Pages of each pool's region (a pool asking for contiguous pages gets"
                + " that many instead)")
        int pool_pages() default 4096;
    }

    /** Regions kept for later pools, at most: 4 of 16 MiB with the default pool.pages. */
    private static final int SPARE_REGIONS = 4;

    /** One pool's memory and free pages. */
    private static final class Region {
        final Arena arena;
        final MemorySegment memory;
        final int pageSize;
        final ArrayDeque<Netmem> free = new ArrayDeque<>();

        Region(Arena arena, MemorySegment memory, int pageSize) {
            this.arena = arena;
            this.memory = memory;
            this.pageSize = pageSize;
        }
    }

    private final int poolPages;
    /** Regions of destroyed pools, for the next pool of their size; guarded by itself. */
    private final ArrayDeque<Region> spare = new ArrayDeque<>();
    /** Whether the provider stopped: a region destroyed from then on is freed at once. */
    private boolean stopped;

    @Activate
    public ${className}(Config config) {
        this(config.pool_pages());
    }

    public ${className}(int poolPages) {
        if (poolPages < 1) {
            throw new IllegalArgumentException("pool.pages: " + poolPages + " (expected: at least 1)");
        }
        this.poolPages = poolPages;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ProviderCapabilities capabilities() {
        return ProviderCapabilities.hostPages();
    }

    /** The pool's memory, made now: slow work belongs in init, not in a page call. */
    @Override
    public void init(PoolContext pool) throws ProviderRefusedException {
        int pageSize = pool.params().pageSize();
        int pages = pool.params().contiguousPages() > 0 ? pool.params().contiguousPages() : poolPages;
        long bytes = (long) pages * pageSize;
        Region r = spareOf(bytes, pageSize);
        if (r == null) {
            Arena arena = Arena.ofShared();
            try {
                r = new Region(arena, region(arena, bytes, pageSize), pageSize);
            } catch (RuntimeException | OutOfMemoryError e) {
                arena.close();
                throw new ProviderRefusedException("cannot make " + pages + " pages of " + pageSize + " bytes: " + e);
            }
        }
        for (Netmem n : pool.carve(MemoryArea.readable(NAME, r.memory)
                .pageShift(Integer.numberOfTrailingZeros(pageSize)).build())) {
            r.free.add(n);
        }
        pool.attach(r);
    }

    /** A kept region of that size, or null. */
    private Region spareOf(long bytes, int pageSize) {
        synchronized (spare) {
            for (Region r : spare) {
                if (r.memory.byteSize() == bytes && r.pageSize == pageSize) {
                    spare.remove(r);
                    return r;
                }
            }
            return null;
        }
    }

    /** Where the memory comes from: here, the JVM's off-heap memory. */
    private static MemorySegment region(Arena arena, long bytes, int alignment) {
        return arena.allocate(bytes, alignment);
    }

    @Override
    public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        Region r = (Region) pool.attachment();
        synchronized (r) {
            int n = 0;
            while (n < max && !r.free.isEmpty()) {
                batch[n++] = r.free.poll();
            }
            return n;
        }
    }

    @Override
    public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        Region r = (Region) pool.attachment();
        synchronized (r) {
            r.free.add(netmem);
        }
        return false;
    }

    /** Every page is back: the region is kept for the next pool, or freed once the provider stopped. */
    @Override
    public void destroy(PoolContext pool) {
        Region r = (Region) pool.attachment();
        r.free.clear();
        synchronized (spare) {
            if (!stopped && spare.size() < SPARE_REGIONS) {
                spare.push(r);
                return;
            }
        }
        r.arena.close();
    }

    /** Frees the kept regions; those pools still hold are freed at their destroy. */
    @Deactivate
    void deactivate() {
        synchronized (spare) {
            stopped = true;
            spare.forEach(r -> r.arena.close());
            spare.clear();
        }
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        Region r = (Region) pool.attachment();
        Map<String, Object> d = new LinkedHashMap<>();
        synchronized (r) {
            d.put("free-pages", r.free.size());
        }
        return d;
    }
}

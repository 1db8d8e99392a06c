package ${package};

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
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
 * pages than asked, 0 when empty, and memory freed only at {@code destroy}, which the pool calls
 * after its last page came back, even when this bundle stopped long before.
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

    /** One pool's memory and free pages. */
    private static final class Region {
        final Arena arena = Arena.ofShared();
        final ArrayDeque<Netmem> free = new ArrayDeque<>();
    }

    private final int poolPages;

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
        Region r = new Region();
        try {
            MemorySegment memory = region(r.arena, (long) pages * pageSize, pageSize);
            for (Netmem n : pool.carve(MemoryArea.readable(NAME, memory)
                    .pageShift(Integer.numberOfTrailingZeros(pageSize)).build())) {
                r.free.add(n);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            r.arena.close();
            throw new ProviderRefusedException("cannot make " + pages + " pages of " + pageSize + " bytes: " + e);
        }
        pool.attach(r);
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

    @Override
    public void destroy(PoolContext pool) {
        ((Region) pool.attachment()).arena.close();
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

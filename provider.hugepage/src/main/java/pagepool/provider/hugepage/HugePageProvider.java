package pagepool.provider.hugepage;

import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * Jakub Kicinski's huge-page provider: preallocate huge pages, map each once for DMA (one
 * {@link MemoryArea} per huge page with a 2 MiB DMA mapping, so one IOTLB entry covers 512
 * pages), and carve them into 4 KiB netmems. A pool takes whole huge pages as it needs them and
 * gives them back when it is destroyed. When every huge page is taken, allocation either fails
 * (counted) or falls back to ordinary pages that are returned on release, as the RFC's provider
 * does. The mapping is unmapped only when the provider is gone and every huge page is back.
 */
@Component(service = MemoryProvider.class, configurationPid = "pagepool.provider.hugepage",
        property = MemoryProvider.NAME + "=" + HugePageProvider.NAME)
@Designate(ocd = HugePageProvider.Config.class)
public final class HugePageProvider implements MemoryProvider {

    public static final String NAME = "hugepage";
    private static final System.Logger LOG = System.getLogger(HugePageProvider.class.getName());
    private static final long FALLBACK_SLAB = 256 * 1024;

    @ObjectClassDefinition(name = "pagepool huge page provider", description = "Huge pages carved into 4 KiB pages")
    public @interface Config {
        @AttributeDefinition(description = "Huge pages to preallocate")
        int pages() default 16;

        @AttributeDefinition(description = "Huge page size", options = {@Option(label = "2 MiB", value = "2M"),
            @Option(label = "1 GiB (hugetlbfs only)", value = "1G")})
        String page_size() default "2M";

        @AttributeDefinition(description = "When every huge page is taken: fail the allocation, or fall back to ordinary pages",
                options = {@Option(label = "fail", value = "fail"), @Option(label = "fallback", value = "fallback")})
        String on_exhaustion() default "fallback";

        @AttributeDefinition(description = "Try hugetlbfs pages (MAP_HUGETLB) before transparent huge pages")
        boolean hugetlb() default true;
    }

    /** One huge page and, once carved, its netmems (kept for the next pool). */
    private static final class HugePage {
        final int index;
        final MemorySegment memory;
        Netmem[] netmems;

        HugePage(int index, MemorySegment memory) {
            this.index = index;
            this.memory = memory;
        }
    }

    private final HugeRegion region;
    private final boolean fallback;
    private final ArrayDeque<HugePage> free = new ArrayDeque<>();
    private boolean closing;
    private long exhausted;

    @Activate
    public HugePageProvider(Config config) {
        this(config.pages(), parseSize(config.page_size()), parsePolicy(config.on_exhaustion()), config.hugetlb());
    }

    public HugePageProvider(int pages, long hugePageSize, boolean fallback, boolean tryHugetlb) {
        if (pages < 1 || pages > 65536) {
            throw new IllegalArgumentException("pages: " + pages + " (expected: 1..65536)");
        }
        this.region = HugeRegion.map(pages, hugePageSize, tryHugetlb);
        this.fallback = fallback;
        for (int i = 0; i < pages; i++) {
            free.add(new HugePage(i, region.page(i)));
        }
        LOG.log(region.backing == HugeRegion.Backing.NONE ? Level.WARNING : Level.INFO,
                "hugepage provider: {0}", region);
    }

    static long parseSize(String s) {
        return switch (s == null ? "" : s.trim().toUpperCase(Locale.ROOT)) {
            case "2M", "2MB", "2MIB" -> 2L << 20;
            case "1G", "1GB", "1GIB" -> 1L << 30;
            default -> throw new IllegalArgumentException("page_size: '" + s + "' (expected: 2M or 1G)");
        };
    }

    static boolean parsePolicy(String s) {
        return switch (s == null ? "" : s.trim().toLowerCase(Locale.ROOT)) {
            case "fallback" -> true;
            case "fail" -> false;
            default -> throw new IllegalArgumentException("on_exhaustion: '" + s + "' (expected: fail or fallback)");
        };
    }

    /**
     * The provider is going away: unmap now if nothing is in use, else when the last huge page
     * returns. Public for tests that run the provider without a framework.
     */
    @Deactivate
    public void deactivate() {
        synchronized (free) {
            closing = true;
            unmapIfIdle();
        }
    }

    private void unmapIfIdle() {
        if (closing && free.size() == region.count) {
            region.unmap();
            LOG.log(Level.INFO, "hugepage provider: unmapped {0}", region);
        }
    }

    public boolean isUnmapped() {
        return region.isUnmapped();
    }

    HugeRegion region() {
        return region;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ProviderCapabilities capabilities() {
        // Pages up to the huge page itself: order 9 on 2 MiB.
        int maxOrder = Math.min(pagepool.api.PoolParams.MAX_ORDER, Long.numberOfTrailingZeros(region.hugePageSize) - 12);
        return new ProviderCapabilities(true, maxOrder, false, false);
    }

    @Override
    public void init(PoolContext pool) throws ProviderRefusedException {
        synchronized (free) {
            if (closing) {
                throw new ProviderRefusedException("the hugepage provider is shutting down");
            }
        }
        pool.attach(new PoolMemory(pool));
    }

    @Override
    public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        return ((PoolMemory) pool.attachment()).alloc(batch, max);
    }

    @Override
    public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        return ((PoolMemory) pool.attachment()).release(netmem);
    }

    @Override
    public void destroy(PoolContext pool) {
        List<HugePage> back = ((PoolMemory) pool.attachment()).close();
        synchronized (free) {
            free.addAll(back);
            unmapIfIdle();
        }
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        Map<String, Object> m = ((PoolMemory) pool.attachment()).describe();
        m.put("backing", region.backing.name().toLowerCase(Locale.ROOT));
        m.put("huge-page-size", region.hugePageSize);
        m.put("huge-pages-obtained", region.hugePagesObtained());
        synchronized (free) {
            m.put("huge-pages-free", free.size());
            m.put("exhausted", exhausted);
        }
        return m;
    }

    /** A huge page for a pool, or null when none is free. */
    private HugePage take() {
        synchronized (free) {
            HugePage h = free.poll();
            if (h == null) {
                exhausted++;
            }
            return h;
        }
    }

    /** One pool's memory: its huge pages, its free netmems, its fallback pages. */
    private final class PoolMemory {
        private final PoolContext pool;
        private final int pageShift;
        private final List<HugePage> pages = new ArrayList<>();
        private Netmem[] freeNetmems = new Netmem[512];
        private int freeCount;
        private long out;
        private long fallbackOut;
        private long fallbackTotal;
        private boolean closed;

        PoolMemory(PoolContext pool) {
            this.pool = pool;
            this.pageShift = 12 + pool.params().order();
        }

        synchronized int alloc(Netmem[] batch, int max) {
            if (closed) {
                throw new IllegalStateException("hugepage memory of pool " + pool.id() + " is destroyed");
            }
            if (freeCount == 0 && !grow()) {
                return fallback ? allocFallback(batch, max) : 0;
            }
            int n = Math.min(max, freeCount);
            for (int i = 0; i < n; i++) {
                batch[i] = freeNetmems[--freeCount];
                freeNetmems[freeCount] = null;
            }
            out += n;
            return n;
        }

        /** Takes a huge page and carves it, reusing its netmems when a pool of this page size had it. */
        private boolean grow() {
            HugePage h = take();
            if (h == null) {
                return false;
            }
            if (h.netmems == null || h.netmems[0].area().pageShift() != pageShift) {
                MemoryArea area = MemoryArea.readable(NAME, h.memory).pageShift(pageShift)
                        .dmaMappingShift(Long.numberOfTrailingZeros(region.hugePageSize)).build();
                h.netmems = pool.carve(area);
            }
            pages.add(h);
            if (freeNetmems.length < freeCount + h.netmems.length) {
                freeNetmems = Arrays.copyOf(freeNetmems, freeCount + h.netmems.length);
            }
            for (int i = h.netmems.length - 1; i >= 0; i--) {
                freeNetmems[freeCount++] = h.netmems[i];
            }
            return true;
        }

        /** Ordinary pages standing in for exhausted huge pages: not recyclable, so they come back at once. */
        private int allocFallback(Netmem[] batch, int max) {
            int pageSize = 1 << pageShift;
            int n = (int) Math.min(max, Math.max(1, FALLBACK_SLAB / pageSize));
            MemorySegment slab = Arena.ofAuto().allocate((long) n * pageSize, pageSize);
            Netmem[] carved = pool.carve(MemoryArea.readable(NAME, slab).pageShift(pageShift).recyclable(false).build());
            System.arraycopy(carved, 0, batch, 0, n);
            fallbackOut += n;
            fallbackTotal += n;
            return n;
        }

        synchronized boolean release(Netmem netmem) {
            if (!netmem.area().isRecyclable()) {
                // A fallback page: forget it; the GC returns its slab when the last one is gone.
                fallbackOut--;
                return true;
            }
            if (freeCount == freeNetmems.length) {
                freeNetmems = Arrays.copyOf(freeNetmems, freeCount * 2);
            }
            freeNetmems[freeCount++] = netmem;
            out--;
            return false;
        }

        synchronized List<HugePage> close() {
            if (out != 0 || fallbackOut != 0) {
                throw new IllegalStateException("hugepage memory of pool " + pool.id() + " destroyed with " + out
                        + " huge-page pages and " + fallbackOut + " fallback pages out");
            }
            closed = true;
            freeCount = 0;
            freeNetmems = new Netmem[0];
            List<HugePage> back = List.copyOf(pages);
            pages.clear();
            return back;
        }

        synchronized Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("huge-pages", pages.size());
            m.put("pages-out", out);
            m.put("fallback-pages-out", fallbackOut);
            m.put("fallback-pages", fallbackTotal);
            return m;
        }
    }
}

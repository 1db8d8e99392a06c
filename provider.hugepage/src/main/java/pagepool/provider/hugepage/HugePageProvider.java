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

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

import pagepool.api.Checks;
import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.kit.config.ConfigReport;
import pagepool.kit.config.ConfigValues;
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
 * does. A mapping is unmapped only when it is no longer wanted and every huge page of it is back.
 *
 * <p>Configuration applies while the provider runs: a new exhaustion policy at once; a new
 * count, size or backing maps a new region for the pools created from then on, and the old
 * region is unmapped once its pools have given back its pages. A configuration that cannot apply
 * is refused and the last good one stays.
 */
@Component(service = MemoryProvider.class, configurationPid = "pagepool.provider.hugepage",
        property = MemoryProvider.NAME + "=" + HugePageProvider.NAME)
@Designate(ocd = HugePageProvider.Config.class)
public final class HugePageProvider implements MemoryProvider {

    public static final String NAME = "hugepage";
    private static final System.Logger LOG = System.getLogger(HugePageProvider.class.getName());
    private static final long FALLBACK_SLAB = 256 * 1024;
    private static final int MAX_PAGES = 65536;
    /** Pages up to a 2 MiB huge page, the smallest there is: constant whatever is configured. */
    private static final int MAX_ORDER = 9;

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

    /** What the mapping is made of. */
    private record Mapping(int pages, long hugePageSize, boolean hugetlb) {
    }

    /** One mapping and how many of its huge pages pools hold. Guarded by {@code free}. */
    private static final class Region {
        final HugeRegion mapping;
        int out;

        Region(HugeRegion mapping) {
            this.mapping = mapping;
        }
    }

    /** One huge page and, once carved, its netmems (kept for the next pool). */
    private static final class HugePage {
        final Region region;
        final MemorySegment memory;
        Netmem[] netmems;

        HugePage(Region region, MemorySegment memory) {
            this.region = region;
            this.memory = memory;
        }
    }

    private final ConfigReport report;
    /** Free huge pages of the current region; also the lock of the provider's shared state. */
    private final ArrayDeque<HugePage> free = new ArrayDeque<>();
    private final List<Region> retiring = new ArrayList<>();
    private Region current;
    private Mapping mapping;
    private volatile boolean fallback;
    private boolean closing;
    private long exhausted;

    @Activate
    public HugePageProvider(Config config, Map<String, Object> props, BundleContext context) {
        this.report = new ConfigReport(context);
        Config d = ConfigValues.defaults(Config.class);
        if (!apply(config, props, "the provider runs with its defaults")) {
            apply(d, Map.of(), "");
        }
    }

    public HugePageProvider(int pages, long hugePageSize, boolean fallback, boolean tryHugetlb) {
        Checks.inRange("pages", pages, 1, MAX_PAGES);
        this.report = new ConfigReport(null);
        this.fallback = fallback;
        remap(new Mapping(pages, hugePageSize, tryHugetlb));
    }

    @Modified
    void modified(Config config, Map<String, Object> props) {
        apply(config, props, "the provider keeps " + describeSettings());
    }

    /** Checks and applies a configuration; false after reporting why it is refused. */
    private boolean apply(Config c, Map<String, Object> props, String otherwise) {
        ConfigValues v = new ConfigValues(props);
        v.noUnknownKeys(Config.class, MemoryProvider.NAME);
        int pages = v.integer("pages", c::pages, 1, MAX_PAGES);
        long size = v.choice("page.size", c::page_size, Map.of("2m", 2L << 20, "2mb", 2L << 20, "2mib", 2L << 20,
                "1g", 1L << 30, "1gb", 1L << 30, "1gib", 1L << 30), 0L);
        boolean fb = v.choice("on.exhaustion", c::on_exhaustion, Map.of("fallback", true, "fail", false), true);
        boolean hugetlb = v.bool("hugetlb", c::hugetlb);
        Mapping m = new Mapping(pages, size, hugetlb);
        if (v.ok() && !m.equals(mapping)) {
            try {
                remap(m);
            } catch (IllegalArgumentException | IllegalStateException e) {
                v.problem(e.getMessage());
            }
        }
        if (!v.ok()) {
            report.refuse(v.source(), "provider " + NAME, v.message() + (otherwise.isEmpty() ? "" : "; " + otherwise));
            return false;
        }
        report.clear();
        fallback = fb;
        return true;
    }

    private String describeSettings() {
        synchronized (free) {
            return "pages=" + mapping.pages() + ", page.size=" + (mapping.hugePageSize() >> 20) + "M, hugetlb="
                    + mapping.hugetlb() + ", on.exhaustion=" + (fallback ? "fallback" : "fail");
        }
    }

    /** Maps a region for the pools created from now on; the previous one goes when its pages are back. */
    private void remap(Mapping m) {
        HugeRegion r = HugeRegion.map(m.pages(), m.hugePageSize(), m.hugetlb());
        LOG.log(r.backing == HugeRegion.Backing.NONE ? Level.WARNING : Level.INFO, "hugepage provider: {0}", r);
        synchronized (free) {
            Region old = current;
            current = new Region(r);
            mapping = m;
            free.clear();
            for (int i = 0; i < r.count; i++) {
                free.add(new HugePage(current, r.page(i)));
            }
            if (old != null) {
                retiring.add(old);
                unmapIfIdle(old);
            }
        }
    }

    ConfigReport report() {
        return report;
    }

    /**
     * The provider is going away: unmap now if nothing is in use, else when the last huge page
     * returns. Public for tests that run the provider without a framework.
     */
    @Deactivate
    public void deactivate() {
        synchronized (free) {
            closing = true;
            free.clear();
            retiring.add(current);
            for (Region r : List.copyOf(retiring)) {
                unmapIfIdle(r);
            }
        }
        report.close();
    }

    /** A region no longer wanted and with every huge page back is unmapped. */
    private void unmapIfIdle(Region r) {
        if (r.out == 0 && retiring.remove(r)) {
            r.mapping.unmap();
            LOG.log(Level.INFO, "hugepage provider: unmapped {0}", r.mapping);
        }
    }

    public boolean isUnmapped() {
        synchronized (free) {
            return current.mapping.isUnmapped();
        }
    }

    HugeRegion region() {
        synchronized (free) {
            return current.mapping;
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ProviderCapabilities capabilities() {
        return new ProviderCapabilities(true, MAX_ORDER, false, false);
    }

    @Override
    public void init(PoolContext pool) throws ProviderRefusedException {
        synchronized (free) {
            if (closing) {
                throw new ProviderRefusedException("the hugepage provider is shutting down");
            }
        }
        PoolMemory m = new PoolMemory(pool);
        if (pool.params().contiguousPages() > 0) {
            m.takeRun(pool.params().contiguousPages());
        }
        pool.attach(m);
    }

    /**
     * {@code n} free huge pages adjacent in the current region, taken; refused when the region
     * has no such run free.
     */
    private List<HugePage> takeRun(int n) throws ProviderRefusedException {
        synchronized (free) {
            long size = current.mapping.hugePageSize;
            List<HugePage> sorted = new ArrayList<>(free);
            sorted.sort((a, b) -> Long.compareUnsigned(a.memory.address(), b.memory.address()));
            int start = 0;
            for (int i = 0; i < sorted.size(); i++) {
                if (i > start && sorted.get(i).memory.address() != sorted.get(i - 1).memory.address() + size) {
                    start = i;
                }
                if (i - start + 1 == n) {
                    List<HugePage> run = List.copyOf(sorted.subList(start, i + 1));
                    for (HugePage h : run) {
                        free.remove(h);
                        h.region.out++;
                    }
                    return run;
                }
            }
            exhausted++;
            throw new ProviderRefusedException(n + " adjacent huge pages of " + (size >> 20) + " MiB for contiguous"
                    + " memory (expected: that many free in a row; " + free.size() + " of " + mapping.pages()
                    + " are free)");
        }
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
            for (HugePage h : back) {
                h.region.out--;
                if (h.region == current && !closing) {
                    free.add(h);
                } else {
                    unmapIfIdle(h.region);
                }
            }
        }
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        Map<String, Object> m = ((PoolMemory) pool.attachment()).describe();
        synchronized (free) {
            HugeRegion r = current.mapping;
            m.put("backing", r.backing.name().toLowerCase(Locale.ROOT));
            m.put("huge-page-size", r.hugePageSize);
            m.put("huge-pages-obtained", r.hugePagesObtained());
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
            } else {
                h.region.out++;
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
        /** Whether the pool is limited to the run it took at init. */
        private boolean contiguous;

        PoolMemory(PoolContext pool) {
            this.pool = pool;
            this.pageShift = 12 + pool.params().order();
        }

        /**
         * A contiguous pool: takes its run of huge pages now and hands out its first
         * {@code pages} pages only, never more and never fallback pages (outside the range).
         */
        void takeRun(int pages) throws ProviderRefusedException {
            long bytes = (long) pages << pageShift;
            long size = region().hugePageSize;
            List<HugePage> run = HugePageProvider.this.takeRun((int) ((bytes + size - 1) / size));
            for (HugePage h : run) {
                carve(h);
            }
            contiguous = true;
            freeNetmems = new Netmem[pages];
            freeCount = 0;
            for (int i = run.size() - 1; i >= 0; i--) {
                Netmem[] nm = run.get(i).netmems;
                for (int j = nm.length - 1; j >= 0; j--) {
                    int at = i * nm.length + j;
                    if (at < pages) {
                        freeNetmems[freeCount++] = nm[j];
                    }
                }
            }
        }

        synchronized int alloc(Netmem[] batch, int max) {
            if (closed) {
                throw new IllegalStateException("hugepage memory of pool " + pool.id() + " is destroyed");
            }
            if (freeCount == 0 && (contiguous || !grow())) {
                return fallback && !contiguous ? allocFallback(batch, max) : 0;
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
            carve(h);
            if (freeNetmems.length < freeCount + h.netmems.length) {
                freeNetmems = Arrays.copyOf(freeNetmems, freeCount + h.netmems.length);
            }
            for (int i = h.netmems.length - 1; i >= 0; i--) {
                freeNetmems[freeCount++] = h.netmems[i];
            }
            return true;
        }

        /** Carves a huge page the pool took (reusing its netmems when a pool of this page size had it). */
        private void carve(HugePage h) {
            if (h.netmems == null || h.netmems[0].area().pageShift() != pageShift) {
                MemoryArea area = MemoryArea.readable(NAME, h.memory).pageShift(pageShift)
                        .dmaMappingShift(Long.numberOfTrailingZeros(h.region.mapping.hugePageSize)).build();
                h.netmems = pool.carve(area);
            }
            pages.add(h);
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

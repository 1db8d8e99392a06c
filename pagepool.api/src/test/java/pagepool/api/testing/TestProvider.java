package pagepool.api.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * The provider of the tests: off-heap pages carved in slabs of up to 64 (one slab of the pool's size
 * when it asks for contiguous pages), per pool, with the
 * layout a test chooses (capabilities, DMA addresses, NUMA node, recyclable), as much memory as
 * it allows, and calls that throw when it says so: the misbehaving plugin the engine must
 * survive. It keeps a ledger of every call and page, so a test can check that each init was
 * paired with a destroy and every page came back; a destroy with pages still out throws, and a
 * pool's memory is freed at its destroy, so a page used after that fails where it is touched.
 *
 * <p>Shared as the API's test jar; the integration tests' provider bundle embeds this package.
 */
public class TestProvider implements MemoryProvider {

    /** The calls a test can make throw. */
    public enum Call {
        INIT, ALLOC, RELEASE, DESTROY, DESCRIBE
    }

    private static final int SLAB_PAGES = 64;

    private final String name;
    private final ProviderCapabilities caps;
    private final Map<Call, Supplier<? extends Throwable>> faults = new EnumMap<>(Call.class);
    private volatile long iovaBase;
    private volatile int node;
    private volatile boolean recyclable = true;
    private volatile long memoryLimit = Long.MAX_VALUE;
    private volatile long handOutLimit = Long.MAX_VALUE;
    private volatile boolean ignoresContiguity;
    private int poison;
    private long carved;

    /** Pages handed out and not yet back, over all pools. */
    public final AtomicLong pagesOut = new AtomicLong();
    /** Pages ever handed out, and ever given back. */
    public final AtomicLong pagesHandedOut = new AtomicLong();
    public final AtomicLong pagesReturned = new AtomicLong();
    /** init calls, and those that returned normally (each owes a destroy). */
    public final AtomicLong inits = new AtomicLong();
    public final AtomicLong initsCompleted = new AtomicLong();
    public final AtomicLong destroys = new AtomicLong();
    /** Calls that threw because the test said so. */
    public final AtomicLong thrown = new AtomicLong();

    /** Readable host pages. */
    public TestProvider(String name) {
        this(name, ProviderCapabilities.hostPages());
    }

    /** @param caps what it says of its memory; unreadable capabilities give unreadable areas, like device memory */
    public TestProvider(String name, ProviderCapabilities caps) {
        this.name = name;
        this.caps = caps;
    }

    /** DMA addresses are {@code iovaBase + address} (e.g. above a device's DMA mask). */
    /**
     * It ignores {@code PoolParams.contiguousPages} and hands out slabs from anywhere: the provider
     * that lies about what a driver registering one range needs.
     */
    public TestProvider ignoresContiguity(boolean ignores) {
        this.ignoresContiguity = ignores;
        return this;
    }

    public TestProvider iovaBase(long base) {
        this.iovaBase = base;
        return this;
    }

    /** The NUMA node its pages say they are on. */
    public TestProvider node(int node) {
        this.node = node;
        return this;
    }

    /** Whether its areas let the pool recycle their pages (false: every page goes back to the provider). */
    public TestProvider recyclable(boolean recyclable) {
        this.recyclable = recyclable;
        return this;
    }

    /** It has memory for this many pages in all; once they are carved, only pages given back are handed out again. */
    public TestProvider memoryLimit(long pages) {
        this.memoryLimit = pages;
        return this;
    }

    /** allocNetmems gives nothing more once this many pages were handed out in all (a provider running dry). */
    public TestProvider handOutLimit(long pages) {
        this.handOutLimit = pages;
        return this;
    }

    /**
     * From now on, {@code call} throws what {@code fault} makes: an exception, an error, or a
     * {@link ProviderRefusedException} from init. A supplier may return null to let one call pass
     * (faults at random, every n-th call), and may sleep first (a slow provider).
     */
    public synchronized TestProvider failing(Call call, Supplier<? extends Throwable> fault) {
        faults.put(call, fault);
        return this;
    }

    /** {@code call} works again. */
    public synchronized TestProvider healed(Call call) {
        faults.remove(call);
        return this;
    }

    /**
     * The next {@code pages} pages handed out are poisoned: their memory is gone (its arena is
     * closed), so whoever touches them meets an exception it did not expect. They are dropped
     * when they come back, never handed out again.
     */
    public synchronized TestProvider poison(int pages) {
        poison += pages;
        return this;
    }

    private synchronized boolean takePoison() {
        if (poison == 0) {
            return false;
        }
        poison--;
        return true;
    }

    private void maybeFail(Call call) {
        Supplier<? extends Throwable> f;
        synchronized (this) {
            f = faults.get(call);
        }
        Throwable t = f == null ? null : f.get();
        if (t != null) {
            thrown.incrementAndGet();
            throw TestProvider.<RuntimeException>sneaky(t);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T sneaky(Throwable t) throws T {
        throw (T) t;
    }

    private static final class PoolMemory {
        final Arena arena = Arena.ofShared();
        final ArrayDeque<Netmem> free = new ArrayDeque<>();
        long out;
        boolean carvedContiguous;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ProviderCapabilities capabilities() {
        return caps;
    }

    @Override
    public void init(PoolContext pool) throws ProviderRefusedException {
        inits.incrementAndGet();
        maybeFail(Call.INIT);
        pool.attach(new PoolMemory());
        initsCompleted.incrementAndGet();
    }

    @Override
    public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        maybeFail(Call.ALLOC);
        PoolMemory m = (PoolMemory) pool.attachment();
        synchronized (m) {
            int n = 0;
            if (max > 0 && takePoison()) {
                batch[n++] = poisoned(pool);
            }
            while (n < max && pagesHandedOut.get() + n < handOutLimit && (!m.free.isEmpty() || carve(pool, m))) {
                batch[n++] = m.free.poll();
            }
            m.out += n;
            pagesOut.addAndGet(n);
            pagesHandedOut.addAndGet(n);
            return n;
        }
    }

    /** Carves a slab of new pages into the pool's free list; false when the memory limit is reached. */
    private boolean carve(PoolContext pool, PoolMemory m) {
        int contiguous = ignoresContiguity ? 0 : pool.params().contiguousPages();
        if (contiguous > 0 && m.carvedContiguous) {
            return false; // the pool's one range is out
        }
        long pages;
        synchronized (this) {
            pages = Math.min(contiguous > 0 ? contiguous : SLAB_PAGES, memoryLimit - carved);
            if (pages <= 0) {
                return false;
            }
            carved += pages;
        }
        int pageSize = pool.params().pageSize();
        MemorySegment slab = m.arena.allocate(pages * pageSize, pageSize);
        for (Netmem nm : carveArea(pool, slab, pageSize)) {
            m.free.add(nm);
        }
        m.carvedContiguous = contiguous > 0;
        return true;
    }

    /** Readable memory is carved as is; unreadable memory with a device view over the same slab. */
    private Netmem[] carveArea(PoolContext pool, MemorySegment slab, int pageSize) {
        MemoryArea area = area(slab, pageSize);
        return caps.readable() ? pool.carve(area) : pool.carve(area, new pagepool.api.DeviceMemory() {
            @Override
            public void write(long offset, MemorySegment src, long srcOffset, long length) {
                MemorySegment.copy(src, srcOffset, slab, offset, length);
            }

            @Override
            public void read(long offset, MemorySegment dst, long dstOffset, long length) {
                MemorySegment.copy(slab, offset, dst, dstOffset, length);
            }
        });
    }

    private MemoryArea area(MemorySegment slab, int pageSize) {
        MemoryArea.Builder b = caps.readable() ? MemoryArea.readable(name, slab)
                : MemoryArea.unreadable(name, slab.address(), slab.byteSize());
        b.pageShift(Integer.numberOfTrailingZeros(pageSize)).node(node).recyclable(recyclable);
        if (iovaBase != 0) {
            b.dmaAddress(iovaBase + slab.address());
        }
        return b.build();
    }

    private Netmem poisoned(PoolContext pool) {
        int pageSize = pool.params().pageSize();
        Arena gone = Arena.ofShared();
        MemorySegment dead = gone.allocate(pageSize, pageSize);
        gone.close();
        return carveArea(pool, dead, pageSize)[0];
    }

    @Override
    public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        PoolMemory m = (PoolMemory) pool.attachment();
        synchronized (m) {
            if (!netmem.area().isReadable() || netmem.area().memory().scope().isAlive()) {
                m.free.add(netmem);
            }
            m.out--;
        }
        pagesOut.decrementAndGet();
        pagesReturned.incrementAndGet();
        // Throws after taking the page: whether it did or not, the pool must count it as back.
        maybeFail(Call.RELEASE);
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
        destroys.incrementAndGet();
        PoolMemory m = (PoolMemory) pool.attachment();
        synchronized (m) {
            if (m.out != 0) {
                throw new IllegalStateException(name + ": destroy of pool " + pool.id() + " with " + m.out
                        + " pages out (expected: every page back first)");
            }
            m.arena.close();
        }
        maybeFail(Call.DESTROY);
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        maybeFail(Call.DESCRIBE);
        PoolMemory m = (PoolMemory) pool.attachment();
        Map<String, Object> d = new LinkedHashMap<>();
        synchronized (m) {
            d.put("pages-out", m.out);
        }
        d.put("provider-pages-out", pagesOut.get());
        return d;
    }
}

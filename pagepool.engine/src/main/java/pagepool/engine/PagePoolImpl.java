package pagepool.engine;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import pagepool.api.BadReleaseException;
import pagepool.api.Checks;
import pagepool.api.DeviceMemory;
import pagepool.api.Frag;
import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.PoolStats;
import pagepool.api.UnreadableNetmemException;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * The page pool of one RX queue, after Linux {@code net/core/page_pool.c}.
 *
 * <p>Alloc: pop the NAPI-owned cache; else refill up to {@value #REFILL} from the recycle ring;
 * else take a batch from the provider. Put: drop a reference; on the last one, recycle into the
 * cache from the NAPI owner, into the ring from anyone else, and give the page back to the
 * provider when the ring is full. Fields without synchronisation are the NAPI owner's.
 *
 * <p>Every call into the provider goes through its {@link GuardedProvider}: what the provider
 * throws is counted against this pool and the provider, and the pool goes on with its
 * accounting whole (an allocation that threw gave nothing, and the pool asks no more of that
 * provider; a release that threw still returned its page; a destroy that threw still ends the pool).
 */
final class PagePoolImpl implements PagePool {

    static final int CACHE_SIZE = 128;
    static final int REFILL = 64;
    static final int BULK = 64;
    /** Frag allocations are rounded to a cache line, as {@code dma_get_cache_alignment()}. */
    static final int FRAG_ALIGN = 64;
    /** References a page starts with while it is being cut into fragments ({@code BIAS_MAX}). */
    static final int FRAG_BIAS = Integer.MAX_VALUE >> 1;

    /** The cache of a closed pool: nothing fits, so a direct recycle after close goes home. */
    private static final PoolNetmem[] NO_CACHE = new PoolNetmem[0];
    /** {@link #cacheState}: the cache's depth (at most {@value #CACHE_SIZE}) in the low bits, recycle_cached above. */
    private static final int DEPTH_BITS = 8;
    private static final long DEPTH_MASK = (1L << DEPTH_BITS) - 1;
    /** Added to {@link #cacheState} by a direct recycle into the cache: one more page, one more recycle_cached. */
    private static final long CACHED_ONE = (1L << DEPTH_BITS) + 1;

    private static final System.Logger LOG = System.getLogger(PagePoolImpl.class.getName());

    private static final int ACTIVE = 0;
    private static final int DETACHED = 1;
    private static final int DESTROYED = 2;
    private static final VarHandle STATE;
    private static final VarHandle NAPI_OWNER;
    private static final VarHandle CACHE_STATE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(PagePoolImpl.class, "state", int.class);
            NAPI_OWNER = l.findVarHandle(PagePoolImpl.class, "napiOwner", Thread.class);
            CACHE_STATE = l.findVarHandle(PagePoolImpl.class, "cacheState", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // The fast path's fields, the NAPI owner's, declared first of their kinds: HotSpot lays an
    // object out by field size, then in declaration order, so these land in the first long and
    // references, close together. Declared among the others, the same compiled code ran 0.5 ns
    // slower with pages in flight (docs/benchmarks.md); the kernel likewise keeps struct
    // page_pool's alloc side in a cache line of its own.
    /**
     * The cache's depth (low {@value #DEPTH_BITS} bits) and recycle_cached (above them) in one
     * word, so that each fast path makes one store (a pop: minus 1; a direct recycle: plus
     * {@link #CACHED_ONE}) and {@link #stats()} reads both at once. Plain long stores are single
     * instructions on the 64-bit JVMs we run on; stats() reads it opaque.
     */
    private long cacheState;
    private Thread napiOwner;
    /**
     * The NAPI owner's stack of pages; {@link #NO_CACHE} once closed, so that one bounds check
     * on the direct recycle stands for both "room in the cache" and "the pool is active".
     */
    private PoolNetmem[] cache = new PoolNetmem[CACHE_SIZE];

    private final int id;
    private final PoolParams params;
    private final GuardedProvider provider;
    private final PoolHost host;
    private final Netmem[] batch;
    private final RecycleRing<PoolNetmem> ring;

    private volatile int state = ACTIVE;
    private int nid;
    private volatile Object attachment;
    /** What the provider is given in place of the pool. */
    final PoolContext context = new Context();

    // Fragment being cut: the page, the next offset, fragments handed out of it.
    private PoolNetmem fragPage;
    private int fragOffset;
    private int fragUsers;

    // NAPI-owner counters (per-CPU in the kernel; recycle_cached is in cacheState); read racily by
    // stats(). alloc_fast has no counter of its own: a fast alloc is a pop of the cache, so stats()
    // derives it.
    private long allocSlow;
    private long allocSlowHighOrder;
    private long allocEmpty;
    /** Whether the provider's last answer was nothing; NAPI context only. */
    private boolean dry;
    private long allocRefill;
    private long allocWaive;
    /** Pages the slow paths left in the cache (a refill's or a bulk's pages beyond the one handed out). */
    private long cacheFilled;
    /** Pages close() took out of the cache. */
    private long cacheDrained;
    private long recycleCacheFull;
    private long holdCount;
    // Counters of paths any thread may take; recycle_ring is the ring's producer index.
    private final AtomicLong recycleRingFull = new AtomicLong();
    private final AtomicLong recycleReleasedRefcnt = new AtomicLong();
    private final AtomicLong releaseCount = new AtomicLong();
    private final AtomicLong badReleases = new AtomicLong();
    /** The highest alloc_fast stats() has reported, so that a read racing the owner never goes back. */
    private final AtomicLong allocFastReported = new AtomicLong();
    /** What the provider threw in this pool; off the hot path, so kept out of the pool's own fields. */
    private final Faults faults = new Faults();

    private volatile Instant detachTime;
    private volatile boolean stalled;

    /**
     * Checks the provider against the parameters, then runs its init.
     *
     * @throws IllegalArgumentException when the provider cannot serve the pool, naming why
     */
    PagePoolImpl(int id, PoolParams params, GuardedProvider provider, PoolHost host) {
        this.id = id;
        this.params = params;
        this.provider = provider;
        this.host = host;
        this.nid = params.nid();
        this.ring = new RecycleRing<>(params.poolSize());
        this.batch = new Netmem[params.order() == 0 ? BULK : 1];
        checkProvider(params, provider);
        try {
            provider.init(this);
        } catch (ProviderRefusedException e) {
            throw new IllegalArgumentException("provider '" + provider.name + "' refused pool " + describeQueue()
                    + ": " + e.getMessage(), e);
        }
    }

    private static void checkProvider(PoolParams p, GuardedProvider provider) {
        ProviderCapabilities caps = provider.caps;
        String name = provider.name;
        if (!caps.readable() && !p.allowUnreadable()) {
            throw new IllegalArgumentException("provider '" + name + "' is unreadable (device memory) and the pool"
                    + " lacks ALLOW_UNREADABLE_NETMEM (expected: a driver that handles unreadable netmem, e.g. with"
                    + " header split)");
        }
        if (p.order() > caps.maxOrder()) {
            throw Checks.invalid("order", p.order(), "0.." + caps.maxOrder() + " for provider '" + name + "'");
        }
        if (caps.needsDmaMap() && !p.dmaMap()) {
            throw Checks.invalid("flags", "0x" + Integer.toHexString(p.flags()) + " lack DMA_MAP",
                    "DMA_MAP, provider '" + name + "' hands out DMA-mapped memory");
        }
        if (caps.needsDmaSync() && !p.dmaSyncDev()) {
            throw Checks.invalid("flags", "0x" + Integer.toHexString(p.flags()) + " lack DMA_SYNC_DEV",
                    "DMA_SYNC_DEV, provider '" + name + "' needs its pages synced for the device");
        }
    }

    // ---- alloc path -------------------------------------------------------------------------

    @Override
    public Netmem alloc() {
        if (Thread.currentThread() != napiOwner) {
            claimNapi();
        }
        PoolNetmem p;
        long s = cacheState;
        int n = (int) (s & DEPTH_MASK);
        if (n > 0) {
            p = cache[n - 1];
            cacheState = s - 1;
        } else {
            p = allocFromRingOrProvider();
            if (p == null) {
                return null;
            }
        }
        handOut(p);
        return p;
    }

    @Override
    public int alloc(Netmem[] out, int max) {
        if (out == null) {
            throw Checks.invalid("out", null, "an array for the netmems");
        }
        if (max < 0 || max > out.length) {
            throw Checks.invalid("max", max, "0.." + out.length + ", the length of the array");
        }
        if (Thread.currentThread() != napiOwner) {
            claimNapi();
        }
        int n = 0;
        while (n < max) {
            long s = cacheState;
            int c = (int) (s & DEPTH_MASK);
            if (c == 0) {
                PoolNetmem p = allocFromRingOrProvider();
                if (p == null) {
                    break;
                }
                handOut(p);
                out[n++] = p;
                continue;
            }
            int take = Math.min(c, max - n);
            for (int i = 0; i < take; i++) {
                PoolNetmem p = cache[--c];
                handOut(p);
                out[n++] = p;
            }
            cacheState = s - take;
        }
        return n;
    }

    private static void handOut(PoolNetmem p) {
        p.generation++;
        p.setRefs(1);
    }

    @Override
    public void handOverNapi() {
        Thread me = Thread.currentThread();
        Thread owner = (Thread) NAPI_OWNER.compareAndExchange(this, me, null);
        if (owner != null && owner != me) {
            throw new IllegalStateException("pool " + id + " is held by thread '" + owner.getName() + "' (its NAPI"
                    + " context), not by '" + me.getName() + "' (expected: the thread that allocated hands it over)");
        }
    }

    private void claimNapi() {
        Thread me = Thread.currentThread();
        Thread owner = (Thread) NAPI_OWNER.compareAndExchange(this, null, me);
        if (owner != null && owner != me) {
            throw new IllegalStateException("pool " + id + " allocates from thread '" + owner.getName()
                    + "' (its NAPI context), not from '" + me.getName() + "'");
        }
    }

    private PoolNetmem allocFromRingOrProvider() {
        if (state != ACTIVE) {
            throw new IllegalStateException("pool " + id + " " + describeQueue() + " is closed: no allocation");
        }
        PoolNetmem p = refillFromRing();
        return p != null ? p : allocSlow();
    }

    private PoolNetmem refillFromRing() {
        if (ring.isEmpty()) {
            allocEmpty++;
            return null;
        }
        int before = depth();
        int preferred = nid;
        do {
            PoolNetmem p = ring.poll();
            if (p == null) {
                break;
            }
            if (preferred == PoolParams.NO_NODE || p.area().node() == preferred) {
                fill(p);
            } else {
                // Node mismatch: give back one page and let the provider allocate on our node.
                returnToProvider(p);
                allocWaive++;
                break;
            }
        } while (depth() < REFILL);
        if (depth() == 0) {
            return null;
        }
        allocRefill++;
        return handFromCache(before);
    }

    private PoolNetmem allocSlow() {
        if (faults.allocFailed) {
            return null;
        }
        Netmem[] b = batch;
        int n = provider.alloc(this, b, b.length);
        if (n > b.length) {
            provider.fault(this, Faults.Call.ALLOC, "allocNetmems returned " + n + " netmems (expected: 0.."
                    + b.length + ")", null);
            n = b.length;
            faults.allocFailed = true;
        }
        if (n < 0) {
            faults.allocFailed = true;
            return null;
        }
        int before = depth();
        int took = 0;
        for (int i = 0; i < n; i++) {
            PoolNetmem p = takeFromProvider(b[i]);
            b[i] = null;
            if (p != null) {
                fill(p);
                took++;
            }
        }
        if (took == 0) {
            providerDry();
            return null;
        }
        dry = false;
        holdCount += took;
        if (params.order() == 0) {
            allocSlow++;
        } else {
            allocSlowHighOrder++;
        }
        return handFromCache(before);
    }

    private int depth() {
        return (int) (cacheState & DEPTH_MASK);
    }

    /** A slow path puts a page in the cache; not a recycle, so recycle_cached stays. */
    private void fill(PoolNetmem p) {
        long s = cacheState;
        cache[(int) (s & DEPTH_MASK)] = p;
        cacheState = s + 1;
    }

    /**
     * A slow path that has filled the cache hands out its top page, and counts what it left
     * behind. The count is stored after the cache's depth, so that a racing {@link #stats()}
     * sees alloc_fast low for a moment, never high.
     */
    private PoolNetmem handFromCache(int depthBefore) {
        long s = cacheState;
        int depth = (int) (s & DEPTH_MASK) - 1;
        PoolNetmem p = cache[depth];
        cacheState = s - 1;
        VarHandle.storeStoreFence();
        cacheFilled += depth - depthBefore;
        return p;
    }

    /** The provider gave nothing: recorded once per dry spell (JFR {@code pagepool.ProviderExhausted}). */
    private void providerDry() {
        if (dry) {
            return;
        }
        dry = true;
        PoolEvents.ProviderExhausted e = new PoolEvents.ProviderExhausted();
        if (e.shouldCommit()) {
            e.about(this);
            e.hold = holdCount;
            e.commit();
        }
    }

    /**
     * {@code page_pool_set_pp_info}: the page enters this pool, unless it is not the provider's
     * to give (a fault: the pool keeps the good pages of the batch and asks no more).
     */
    private PoolNetmem takeFromProvider(Netmem nm) {
        String bad = null;
        if (!(nm instanceof PoolNetmem p)) {
            bad = "allocNetmems returned " + nm + " (expected: a netmem made by PoolContext.carve)";
        } else if (p.pool != null) {
            bad = "allocNetmems handed out " + p + " that pool " + p.pool.id + " still has";
        } else if (p.gone) {
            bad = "allocNetmems handed out " + p + " after releaseNetmem let it go (returned true)";
        } else if (p.size() != params.pageSize()) {
            bad = "allocNetmems returned a page of " + p.size() + " bytes (expected: " + params.pageSize() + ")";
        } else {
            p.pool = this;
            return p;
        }
        faults.allocFailed = true;
        provider.fault(this, Faults.Call.ALLOC, bad, null);
        return null;
    }

    @Override
    public boolean allocFrag(int size, Frag out) {
        if (out == null) {
            throw Checks.invalid("out", null, "a Frag to fill");
        }
        int pageSize = params.pageSize();
        Checks.inRange("size", size, 1, pageSize);
        size = (size + FRAG_ALIGN - 1) & -FRAG_ALIGN;
        PoolNetmem page = fragPage;
        if (page != null && fragOffset + size > pageSize) {
            finishFragPage(true);
            page = null;
        }
        if (page == null) {
            page = (PoolNetmem) alloc();
            if (page == null) {
                return false;
            }
            page.setRefs(FRAG_BIAS);
            fragPage = page;
            fragOffset = 0;
            fragUsers = 0;
        }
        out.set(page, fragOffset, size, page.generation);
        fragOffset += size;
        fragUsers++;
        return true;
    }

    /**
     * Stops cutting the current frag page: drops the bias the users did not take. Fewer references
     * left than none means fragments came back more often than they were cut (a double release
     * from another thread while the page was cut): counted, and the page is freed so it does not
     * leak; a fragment still out then meets a refused release.
     */
    private void finishFragPage(boolean direct) {
        PoolNetmem page = fragPage;
        fragPage = null;
        int left = page.unref(FRAG_BIAS - fragUsers);
        if (left < 0) {
            badReleases.addAndGet(-left);
            LOG.log(Level.WARNING, "pool " + id + " " + describeQueue() + ": fragments of " + page + " were released "
                    + -left + " time(s) more than they were cut; the page is freed");
            page.setRefs(0);
            left = 0;
        }
        if (left == 0) {
            // Every fragment came back already: the page is free.
            recycle(page, direct);
        }
    }

    @Override
    public void ref(Netmem netmem) {
        PoolNetmem p = owned(netmem);
        if (p.ref() <= 0) {
            throw refused(p + " given an extra reference in pool " + id + " " + describeQueue()
                    + ", but it has none: it is back in the pool");
        }
    }

    // ---- put path ---------------------------------------------------------------------------

    @Override
    public void recycleDirect(Netmem netmem) {
        PoolNetmem p = owned(netmem);
        if (Thread.currentThread() != napiOwner) {
            release(p);
        } else if (p.dropLastOwner()) {
            recycle(p, true);
        } else {
            dropDirect(p);
        }
    }

    /** The owner drops a reference that is not the page's only one, or one it does not have. */
    private void dropDirect(PoolNetmem p) {
        if (p == fragPage) {
            releaseFragBeingCut(p);
        } else if (checkDrop(p, p.unref())) {
            recycle(p, true);
        }
    }

    /**
     * A fragment of the page still being cut comes back on the NAPI owner: the owner knows how many
     * fragments it handed out, so a release beyond them is a double release, refused at once.
     */
    private void releaseFragBeingCut(PoolNetmem p) {
        int before = p.unref();
        if (FRAG_BIAS - (before - 1) > fragUsers) {
            p.unref(-1); // undo the drop: nothing changes
            throw refused("fragment of " + p + " released to pool " + id + " " + describeQueue()
                    + " more often than it was cut: " + fragUsers + " fragments handed out");
        }
    }

    @Override
    public void release(Netmem netmem) {
        PoolNetmem p = owned(netmem);
        if (dropRef(p)) {
            recycle(p, false);
        }
    }

    @Override
    public void release(Netmem[] netmems, int[] generations, int count) {
        if (count < 0 || count > netmems.length || count > generations.length) {
            throw Checks.invalid("count", count, "0.." + Math.min(netmems.length, generations.length)
                    + ", what both arrays hold");
        }
        int freed = 0;
        BadReleaseException first = null;
        int refused = 0;
        for (int i = 0; i < count; i++) {
            try {
                PoolNetmem p = current(netmems[i], generations[i]);
                if (dropRef(p)) {
                    netmems[freed++] = p; // the array is scratch space: freed pages to the front
                }
            } catch (BadReleaseException e) {
                // Counted already; the rest of the batch still goes back.
                first = first == null ? e : first;
                refused++;
            }
        }
        recycleBulk(netmems, freed);
        if (first != null) {
            throw refused == 1 ? first
                    : new BadReleaseException(first.getMessage() + " (and " + (refused - 1) + " more of the batch)");
        }
    }

    /** The pages freed by a bulk release: one ring reservation for the recyclable ones. */
    private void recycleBulk(Netmem[] freed, int n) {
        int recyclable = 0;
        for (int i = 0; i < n; i++) {
            PoolNetmem p = (PoolNetmem) freed[i];
            if (!p.recyclable) {
                recycleReleasedRefcnt.incrementAndGet();
                returnToProvider(p);
            } else {
                freed[recyclable++] = p;
            }
        }
        int offered = state == ACTIVE ? ring.offer(freed, recyclable) : 0;
        if (offered < recyclable && state == ACTIVE) {
            recycleRingFull.addAndGet(recyclable - offered);
        }
        for (int i = offered; i < recyclable; i++) {
            // Detached, or the ring is full: these go home.
            returnToProvider((PoolNetmem) freed[i]);
        }
    }

    @Override
    public void recycleDirect(Netmem netmem, int generation) {
        recycleDirect(current(netmem, generation));
    }

    @Override
    public void release(Netmem netmem, int generation) {
        release(current(netmem, generation));
    }

    /** The page, if it is out of this pool and still in the generation its holder got. */
    private PoolNetmem current(Netmem netmem, int generation) {
        PoolNetmem p = owned(netmem);
        if (p.generation != generation) {
            throw refused(p + " released to pool " + id + " " + describeQueue() + " with generation " + generation
                    + ", but it was given back and handed out again since (generation " + p.generation
                    + "): a stale reference");
        }
        return p;
    }

    private PoolNetmem owned(Netmem netmem) {
        if (netmem instanceof PoolNetmem p && p.pool == this) {
            return p;
        }
        throw badRelease(netmem);
    }

    private boolean dropRef(PoolNetmem p) {
        return checkDrop(p, p.unref());
    }

    /** @param before the reference count before the drop; true when the drop freed the page */
    private boolean checkDrop(PoolNetmem p, int before) {
        if (before <= 0) {
            throw refused(p + " released to pool " + id + " " + describeQueue() + " twice: it has no reference out");
        }
        return before == 1;
    }

    private BadReleaseException badRelease(Netmem netmem) {
        if (netmem == null) {
            return refused("null released to pool " + id + " (expected: a netmem it handed out)");
        }
        if (!(netmem instanceof PoolNetmem p)) {
            return refused(netmem + " released to pool " + id + " was not handed out by a page pool");
        }
        PagePoolImpl other = p.pool;
        if (other == null) {
            return refused(p + " released to pool " + id + " " + describeQueue() + " twice: it is back with its provider");
        }
        return refused(p + " released to pool " + id + " " + describeQueue() + " belongs to pool " + other.id + " "
                + other.describeQueue());
    }

    /** A release refused: counted, recorded (JFR {@code pagepool.BadRelease}), and said to the caller. */
    private BadReleaseException refused(String message) {
        badReleases.incrementAndGet();
        PoolEvents.BadRelease e = new PoolEvents.BadRelease();
        if (e.shouldCommit()) {
            e.about(this);
            e.message = message;
            e.commit();
        }
        return new BadReleaseException(message);
    }

    /** The last reference is gone: cache, ring, or back to the provider. */
    private void recycle(PoolNetmem p, boolean direct) {
        if (!p.recyclable) {
            recycleReleasedRefcnt.incrementAndGet();
            returnToProvider(p);
            return;
        }
        if (direct) {
            PoolNetmem[] c = cache;
            long s = cacheState;
            int n = (int) (s & DEPTH_MASK);
            if (n < c.length) {
                c[n] = p;
                cacheState = s + CACHED_ONE;
                return;
            }
            if (c != NO_CACHE) {
                recycleCacheFull++;
            }
        }
        recycleInRing(p);
    }

    private void recycleInRing(PoolNetmem p) {
        if (state != ACTIVE) {
            // Detached: nothing is recycled any more, every page goes home.
            returnToProvider(p);
        } else if (!ring.offer(p)) {
            recycleRingFull.incrementAndGet();
            returnToProvider(p);
        }
    }

    /**
     * {@code page_pool_return_netmem}: the page leaves the pool for its provider. It counts as
     * returned even if the provider throws taking it, so the pool's accounting always closes.
     */
    private void returnToProvider(PoolNetmem p) {
        p.pool = null;
        if (provider.release(this, p)) {
            p.gone = true; // the provider let it go for good: it must never come back
        }
        long released = releaseCount.incrementAndGet();
        if (state == DETACHED && released == holdCount) {
            destroy();
        }
    }

    /** {@link #returnToProvider(PoolNetmem)} for the first {@code n} of {@code pages}, in one guarded call. */
    private void returnToProvider(PoolNetmem[] pages, int n) {
        if (n == 0) {
            return;
        }
        for (int i = 0; i < n; i++) {
            pages[i].pool = null;
        }
        provider.releaseAll(this, pages, n);
        long released = releaseCount.addAndGet(n);
        if (state == DETACHED && released == holdCount) {
            destroy();
        }
    }

    // ---- device memory ----------------------------------------------------------------------

    @Override
    public boolean deviceWrite(Netmem netmem, int offset, MemorySegment src, long srcOffset, int length) {
        return deviceCopy(netmem, offset, src, srcOffset, length, true);
    }

    @Override
    public boolean deviceRead(Netmem netmem, int offset, MemorySegment dst, long dstOffset, int length) {
        return deviceCopy(netmem, offset, dst, dstOffset, length, false);
    }

    /** One page's device memory, written or read through its provider's view (guarded). */
    private boolean deviceCopy(Netmem netmem, int offset, MemorySegment host, long hostOffset, int length,
            boolean write) {
        PoolNetmem p = deviceAccess(netmem, offset, length);
        checkHost(host, hostOffset, length, write);
        long at = ((long) p.index() << p.area().pageShift()) + offset;
        try {
            if (write) {
                p.device.write(at, host, hostOffset, length);
            } else {
                p.device.read(at, host, hostOffset, length);
            }
            return true;
        } catch (Throwable t) {
            provider.fault(this, Faults.Call.OTHER, Faults.describe(write ? "deviceMemory.write" : "deviceMemory.read",
                    t), t);
            return false;
        }
    }

    /**
     * The caller's side of a device copy, checked before the provider is called: what is wrong
     * here is the caller's fault, answered to the caller and never charged to the provider.
     */
    private static void checkHost(MemorySegment host, long hostOffset, int length, boolean write) {
        String name = write ? "src" : "dst";
        if (host == null) {
            throw Checks.invalid(name, null, "a memory segment");
        }
        if (hostOffset < 0 || hostOffset > host.byteSize() - length) {
            throw Checks.invalid(name + "Offset", hostOffset, "0.." + (host.byteSize() - length) + ", so " + length
                    + " bytes fit in the segment of " + host.byteSize());
        }
        if (!host.scope().isAlive()) {
            throw Checks.invalid(name, "a segment whose arena is closed", "a live segment");
        }
        if (!write && host.isReadOnly()) {
            throw Checks.invalid(name, "a read-only segment", "a writable segment to read into");
        }
    }

    /** The page is out of this pool, unreadable, with a device view, and the range is inside it. */
    private PoolNetmem deviceAccess(Netmem netmem, int offset, int length) {
        if (!(netmem instanceof PoolNetmem p) || p.pool != this) {
            throw badRelease(netmem);
        }
        if (p.device == null) {
            throw new UnreadableNetmemException(p + " has no device view" + (p.isReadable()
                    ? " (it is host memory: read and write its segment)" : ""));
        }
        if (offset < 0 || length < 0 || offset > p.size() - length) {
            throw Checks.invalid("device range", "offset " + offset + " length " + length,
                    "inside the page of " + p.size() + " bytes");
        }
        return p;
    }

    // ---- node, close ------------------------------------------------------------------------

    @Override
    public void nidChanged(int newNid) {
        if (newNid < PoolParams.NO_NODE) {
            throw Checks.invalid("nid", newNid, "-1 for no node, or >= 0");
        }
        nid = newNid;
    }

    @Override
    public void close() {
        if (!STATE.compareAndSet(this, ACTIVE, DETACHED)) {
            return;
        }
        // NAPI is stopped: this thread owns the cache now. Releases racing with us see DETACHED
        // and go to the provider, or landed in the ring just before and are drained here or by
        // the engine's retry.
        PoolNetmem[] c = cache;
        cache = NO_CACHE;
        if (fragPage != null) {
            finishFragPage(false);
        }
        int depth = depth();
        cacheDrained += depth;
        VarHandle.storeStoreFence(); // counted before the depth drops: a racing stats() reads low, not high
        cacheState -= depth;
        returnToProvider(c, depth);
        java.util.Arrays.fill(c, 0, depth, null);
        drainRing();
        if (releaseCount.get() == holdCount) {
            destroy();
            return;
        }
        // Pages are out: wait for them. If the last one comes back meanwhile, its release
        // destroys the pool and the host sees a pool that is no longer detached.
        detachTime = Instant.now();
        host.detached(this);
    }

    /** Pages a drain gives back per guarded call. */
    private static final int DRAIN_BATCH = 64;

    /** Gives back what the ring holds; consumer role, so only from close or the engine's retry. */
    synchronized void drainRing() {
        PoolNetmem[] batch = new PoolNetmem[DRAIN_BATCH];
        int n;
        do {
            n = 0;
            for (PoolNetmem p; n < DRAIN_BATCH && (p = ring.poll()) != null;) {
                batch[n++] = p;
            }
            returnToProvider(batch, n);
        } while (n == DRAIN_BATCH);
    }

    private void destroy() {
        if (STATE.compareAndSet(this, DETACHED, DESTROYED)) {
            provider.destroy(this);
            host.destroyed(this);
        }
    }

    /** Marks a detached pool as stalled and logs it once. */
    void reportStall(long waitedMillis) {
        if (state == DETACHED && !stalled) {
            stalled = true;
            long inflight = inflight();
            LOG.log(Level.WARNING, "page pool " + id + " " + describeQueue() + " (provider " + provider.name
                    + ") stalled: " + inflight + " pages (" + inflight * params.pageSize() + " bytes) still in flight "
                    + waitedMillis + " ms after close");
            PoolEvents.PoolStall e = new PoolEvents.PoolStall();
            if (e.shouldCommit()) {
                e.about(this);
                e.inflight = inflight;
                e.waitedMillis = waitedMillis;
                e.commit();
            }
        }
    }

    // ---- introspection ----------------------------------------------------------------------

    @Override
    public int id() {
        return id;
    }

    @Override
    public PoolParams params() {
        return params;
    }

    GuardedProvider provider() {
        return provider;
    }

    /** Counts a fault of the provider in this pool; true for the first fault of that call here. */
    boolean recordFault(Faults.Call call, String what) {
        faults.record(call, what);
        return faults.firstOf(call);
    }

    pagepool.api.ProviderFaults faults() {
        return faults.snapshot();
    }

    boolean isDetached() {
        return state == DETACHED;
    }

    boolean isActive() {
        return state == ACTIVE;
    }

    long inflight() {
        return holdCount - releaseCount.get();
    }

    /**
     * alloc_fast is derived, not counted: the pops of the cache are every page that entered it
     * (recycle_cached, or left there by a slow path) and is neither still there nor drained by
     * close(). The depth and recycle_cached come from one read of {@link #cacheState}; the slow
     * paths store it before the fill count and after the drain count, and it is read here after
     * the one and before the other, so a read racing the owner comes out low for a moment, never
     * high. The highest value reported so far keeps the counter from going back.
     */
    @Override
    public PoolStats stats() {
        long filled = cacheFilled;
        VarHandle.loadLoadFence();
        long s = (long) CACHE_STATE.getOpaque(this);
        VarHandle.loadLoadFence();
        long drained = cacheDrained;
        long cached = s >>> DEPTH_BITS;
        long fast = allocFastReported.accumulateAndGet(cached + filled - (s & DEPTH_MASK) - drained, Math::max);
        return new PoolStats(fast, allocSlow, allocSlowHighOrder, allocEmpty, allocRefill, allocWaive,
                cached, recycleCacheFull, ring.offered(), recycleRingFull.get(), recycleReleasedRefcnt.get());
    }

    @Override
    public PoolInfo info() {
        int s = state;
        long hold = holdCount;
        long released = releaseCount.get();
        PoolInfo.State st = s == ACTIVE ? PoolInfo.State.ACTIVE
                : s == DETACHED ? PoolInfo.State.DETACHED : PoolInfo.State.DESTROYED;
        Map<String, Object> described = s == DESTROYED ? Map.of() : provider.describe(this);
        return new PoolInfo(id, params.queue(), provider.name, st, hold - released,
                (hold - released) * params.pageSize(), hold, released, detachTime, stalled, badReleases.get(),
                faults.snapshot(), described, stats());
    }

    /** The queue's name ({@code sim0/1}), or "" for a pool of no queue. */
    String queueName() {
        return params.queue() == null ? "" : params.queue().toString();
    }

    String providerName() {
        return provider.name;
    }

    /** When the pool detached, or null. */
    Instant detachTime() {
        return detachTime;
    }

    String describeQueue() {
        return params.queue() == null ? "(no queue)" : "(queue " + params.queue() + ")";
    }

    // ---- PoolContext: what the provider sees ------------------------------------------------

    /**
     * The pool as its provider sees it: a separate object, so a caller holding the {@link PagePool}
     * cannot cast it to a {@link PoolContext} and act as the provider (attach state, carve), and a
     * provider cannot cast its context to the pool and allocate from another's cache.
     */
    private final class Context implements PoolContext {

        @Override
        public int id() {
            return id;
        }

        @Override
        public PoolParams params() {
            return params;
        }

        @Override
        public Netmem[] carve(MemoryArea area) {
            return carveWith(area, null);
        }

        @Override
        public Netmem[] carve(MemoryArea area, DeviceMemory device) {
            if (area == null || area.isReadable() || device == null) {
                throw Checks.invalid("area", area + " with device view " + device, "an unreadable area and its device view");
            }
            return carveWith(area, device);
        }

        @Override
        public void attach(Object state) {
            attachment = state;
        }

        @Override
        public Object attachment() {
            return attachment;
        }

        @Override
        public String toString() {
            return "PoolContext[" + id + " " + describeQueue() + "]";
        }
    }

    private Netmem[] carveWith(MemoryArea area, DeviceMemory device) {
        if (area == null) {
            throw Checks.invalid("area", null, "a MemoryArea to carve");
        }
        if (!area.isReadable() && provider.caps.readable()) {
            // The provider said readable; drivers will copy from these pages with the CPU.
            throw Checks.invalid("area", area + " is unreadable", "readable memory, as provider '" + provider.name
                    + "' declares in its capabilities");
        }
        if (!area.isReadable() && device == null) {
            // Nobody could reach its bytes: not the CPU, and not the device without a view.
            throw Checks.invalid("area", area + " is unreadable and has no device view",
                    "a readable area, or carve(area, deviceMemory) for device memory");
        }
        if (area.pageShift() != 12 + params.order()) {
            throw Checks.invalid("area page size", area.pageSize(), params.pageSize() + ", the page size of pool " + id);
        }
        Netmem[] netmems = new Netmem[area.pageCount()];
        for (int i = 0; i < netmems.length; i++) {
            netmems[i] = new PoolNetmem(area, i, device);
        }
        return netmems;
    }

    @Override
    public String toString() {
        return "PagePool[" + id + " " + describeQueue() + " provider=" + provider.name + "]";
    }
}

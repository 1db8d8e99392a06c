package pagepool.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jdk.jfr.FlightRecorder;
import pagepool.api.Checks;
import pagepool.api.PagePool;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.PoolStats;
import pagepool.api.binding.Change;
import pagepool.api.provider.MemoryProvider;

/**
 * The pools of one engine: ids, the registry for introspection, and the retry that drains
 * detached pools and reports the ones that stall (the kernel's {@code page_pool_release_retry}).
 * Plain Java, so tests can drive it without a framework.
 */
final class PoolRegistry implements PoolHost, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(PoolRegistry.class.getName());

    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, PagePoolImpl> pools = new ConcurrentHashMap<>();
    private final Map<Integer, ScheduledFuture<?>> retries = new ConcurrentHashMap<>();
    /** Pools whose POOL_DETACHED was published and that are not destroyed yet. */
    private final java.util.Set<Integer> detachSaid = ConcurrentHashMap.newKeySet();
    /** Orders a pool's DETACHED before its DESTROYED when the two race (publishing never blocks). */
    private final Object said = new Object();
    private final ScheduledExecutorService retry;
    private volatile long retryMillis;
    private volatile long stallMillis;
    private final ChangeFeed changes;
    /**
     * @param retryMillis how often a detached pool's ring is drained and its stall checked
     * @param stallMillis how long a detached pool may wait for its pages before it is reported
     */
    PoolRegistry(long retryMillis, long stallMillis) {
        this(retryMillis, stallMillis, new ChangeFeed());
    }

    /** @param changes where pools added, detached and destroyed are told */
    PoolRegistry(long retryMillis, long stallMillis, ChangeFeed changes) {
        this.changes = changes;
        setTimes(retryMillis, stallMillis);
        this.retry = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pagepool-detach-retry");
            t.setDaemon(true);
            return t;
        });
        FlightRecorder.addPeriodicEvent(PoolEvents.PoolStatistics.class, statistics);
    }

    /** JFR's periodic {@code pagepool.PoolStatistics}: one event per pool, on JFR's own thread. */
    private final Runnable statistics = () -> {
        for (PagePoolImpl pool : pools.values()) {
            PoolEvents.PoolStatistics e = new PoolEvents.PoolStatistics();
            PoolInfo info = pool.info();
            PoolStats st = info.stats();
            e.about(pool);
            e.state = info.state().name();
            e.inflight = info.inflight();
            e.allocFast = st.allocFast();
            e.allocSlow = st.allocSlow();
            e.allocSlowHighOrder = st.allocSlowHighOrder();
            e.allocEmpty = st.allocEmpty();
            e.allocRefill = st.allocRefill();
            e.allocWaive = st.allocWaive();
            e.recycleCached = st.recycleCached();
            e.recycleCacheFull = st.recycleCacheFull();
            e.recycleRing = st.recycleRing();
            e.recycleRingFull = st.recycleRingFull();
            e.recycleReleasedRefcnt = st.recycleReleasedRefcnt();
            e.commit();
        }
    };

    /**
     * New times for pools detached from now on.
     *
     * @throws IllegalArgumentException for a retry under 1 ms or a negative stall time
     */
    void setTimes(long retryMillis, long stallMillis) {
        Checks.atLeast("retryMillis", retryMillis, 1);
        Checks.atLeast("stallMillis", stallMillis, 0);
        this.retryMillis = retryMillis;
        this.stallMillis = stallMillis;
    }

    /** Creates a pool on {@code provider}; see {@link pagepool.api.PagePoolFactory#create}. */
    PagePoolImpl create(PoolParams params, GuardedProvider provider) {
        PagePoolImpl pool = new PagePoolImpl(ids.incrementAndGet(), params, provider, this);
        pools.put(pool.id(), pool);
        changes.publish(Change.Kind.POOL_ADDED, pool.id(), params.queue(), provider.name, "");
        return pool;
    }

    /** A pool on a provider outside any queue (tests, benchmarks); its faults are still guarded. */
    PagePool create(PoolParams params, MemoryProvider provider) {
        return create(params, GuardedProvider.standalone(provider));
    }

    List<PoolInfo> pools() {
        List<PoolInfo> out = new ArrayList<>(pools.size());
        for (PagePoolImpl p : pools.values()) {
            out.add(p.info());
        }
        out.sort(Comparator.comparingInt(PoolInfo::id));
        return out;
    }

    /** Pools not yet destroyed that take memory from {@code provider}. */
    List<PagePoolImpl> poolsOf(MemoryProvider provider) {
        List<PagePoolImpl> out = new ArrayList<>();
        for (PagePoolImpl p : pools.values()) {
            if (p.provider().provider == provider) {
                out.add(p);
            }
        }
        return out;
    }

    PagePoolImpl pool(int id) {
        return pools.get(id);
    }


    @Override
    public void detached(PagePoolImpl pool) {
        long detachedAt = System.nanoTime();
        sayDetached(pool);
        PoolEvents.PoolDetach event = new PoolEvents.PoolDetach();
        if (event.shouldCommit()) {
            event.about(pool);
            event.inflight = pool.inflight();
            event.inflightBytes = event.inflight * pool.params().pageSize();
            event.commit();
        }
        long stall = stallMillis;
        long every = retryMillis;
        ScheduledFuture<?> f;
        try {
            f = retry.scheduleWithFixedDelay(() -> {
                try {
                    pool.drainRing();
                    long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - detachedAt);
                    if (waited >= stall) {
                        pool.reportStall(waited);
                    }
                } catch (Throwable t) {
                    // The retry of one pool must not end the retries of the others.
                    LOG.log(System.Logger.Level.ERROR, "draining detached pool " + pool.id() + " failed", t);
                }
            }, every, every, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return; // the engine is stopping: the pool still destroys itself at its last page
        }
        retries.put(pool.id(), f);
        if (!pool.isDetached()) {
            // Destroyed while the retry was being scheduled.
            destroyed(pool);
        }
    }

    /** POOL_DETACHED, once, and only while the pool is not destroyed (see {@link #destroyed}). */
    private void sayDetached(PagePoolImpl pool) {
        synchronized (said) {
            if (pools.containsKey(pool.id()) && detachSaid.add(pool.id())) {
                changes.publish(Change.Kind.POOL_DETACHED, pool.id(), pool.params().queue(), pool.providerName(),
                        pool.inflight() + " pages in flight");
            }
        }
    }

    @Override
    public void destroyed(PagePoolImpl pool) {
        PoolEvents.PoolDestroy e = new PoolEvents.PoolDestroy();
        if (e.shouldCommit() && pools.containsKey(pool.id())) {
            e.about(pool);
            java.time.Instant detached = pool.detachTime();
            e.detachedNanos = detached == null ? 0 : java.time.Duration.between(detached, java.time.Instant.now())
                    .toNanos();
            e.commit();
        }
        synchronized (said) {
            // The last page may come back on another thread before detached() has spoken: say
            // DETACHED first then, so no one hears of a detached pool's end before its detach.
            if (pools.remove(pool.id()) != null) {
                if (pool.detachTime() != null && detachSaid.add(pool.id())) {
                    changes.publish(Change.Kind.POOL_DETACHED, pool.id(), pool.params().queue(), pool.providerName(),
                            "0 pages in flight");
                }
                changes.publish(Change.Kind.POOL_DESTROYED, pool.id(), pool.params().queue(), pool.providerName(), "");
            }
            detachSaid.remove(pool.id());
        }
        ScheduledFuture<?> f = retries.remove(pool.id());
        if (f != null) {
            f.cancel(false);
        }
    }

    /**
     * Stops the retry. Detached pools stay registered nowhere but still finish their destroy
     * when their last page comes back.
     */
    @Override
    public void close() {
        FlightRecorder.removePeriodicEvent(statistics);
        retry.shutdownNow();
    }
}

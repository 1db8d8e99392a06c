package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.Map;

import org.osgi.framework.Constants;

import pagepool.api.Checks;
import pagepool.api.Netmem;
import pagepool.api.QueueId;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * A memory-provider service as the engine holds it: its fixed properties read once when it
 * arrives, every call into it guarded where it is made, what it throws counted (per pool and for
 * the provider) and reported to the engine, and its quarantine. Providers are plugins anyone may
 * write: nothing they throw, exception or error, reaches a pool's caller or a driver thread.
 */
final class GuardedProvider {

    private static final System.Logger LOG = System.getLogger(GuardedProvider.class.getName());

    final MemoryProvider provider;
    final String name;
    final ProviderCapabilities caps;
    final boolean isDefault;
    final int ranking;
    final long serviceId;
    /** The bundle that registered it, or -1 outside a framework. */
    final long bundleId;
    /** Only its own bundle may bind queues to it ({@link MemoryProvider#PRIVATE}). */
    final boolean isPrivate;
    final Faults faults = new Faults();
    /** Calls into it in progress, on any thread: whether a restart that ran out of time waits on it. */
    private final java.util.concurrent.atomic.AtomicInteger inCall = new java.util.concurrent.atomic.AtomicInteger();
    /** A pool's set-up or tear-down may take this long; longer is a fault (counted; quarantine at the limit). */
    static final long POOL_CALL_BUDGET_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    /**
     * One allocation or release may take this long; longer is a fault: NAPI threads wait on them.
     * Generous, so a busy machine (a first call's class loading, a pause) is not taken for a slow
     * provider: 160 ms was seen on a loaded 2-core machine for a call that does next to nothing.
     */
    static final long PAGE_CALL_BUDGET_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(500);
    /** Where its faults go once counted: the engine that took it; nowhere for a standalone one. */
    private volatile FaultSink sink = (provider, pool, call, what) -> { };
    /** How long {@code describe} may take; a shell command, a scrape or JFR's periodic thread waits on it. */
    static final long DESCRIBE_BUDGET_MILLIS = 500;
    /** The threads its reads run on under their budget: the engine's; none (called in place) for a standalone one. */
    private volatile Budget readers;
    private final BoundedRead describes = new BoundedRead(DESCRIBE_BUDGET_MILLIS);

    /** Told of a fault the provider made in a pool; called on whatever thread met it: must not block. */
    interface FaultSink {
        void providerFault(GuardedProvider provider, PagePoolImpl pool, Faults.Call call, String what);
    }

    /** Why it is quarantined, or null. Written on the reconciler thread. */
    volatile String quarantine;

    private GuardedProvider(MemoryProvider provider, String name, ProviderCapabilities caps, boolean isDefault,
            int ranking, long serviceId, long bundleId, boolean isPrivate) {
        this.provider = provider;
        this.name = name;
        this.caps = caps;
        this.isDefault = isDefault;
        this.ranking = ranking;
        this.serviceId = serviceId;
        this.bundleId = bundleId;
        this.isPrivate = isPrivate;
    }

    /**
     * Reads a provider service's name, capabilities and properties.
     *
     * @throws IllegalArgumentException when the provider cannot say what it is (its name or
     *         capabilities throw, or they are missing): it is not taken
     */
    static GuardedProvider of(MemoryProvider provider, Map<String, Object> props, long bundleId) {
        ProviderCapabilities caps;
        String own;
        try {
            own = provider.name();
            caps = provider.capabilities();
        } catch (Throwable t) {
            throw new IllegalArgumentException("memory provider " + provider.getClass().getName()
                    + " is not taken: " + Faults.describe("name/capabilities", t));
        }
        Object named = props.get(MemoryProvider.NAME);
        String name = named != null ? String.valueOf(named) : own;
        if (caps == null) {
            throw new IllegalArgumentException("memory provider " + provider.getClass().getName() + ": capabilities"
                    + " null (expected: its capabilities)");
        }
        try {
            Checks.providerName("name", name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("memory provider " + provider.getClass().getName() + " is not taken: "
                    + e.getMessage());
        }
        return new GuardedProvider(provider, name, caps, Boolean.parseBoolean(String.valueOf(props.get(MemoryProvider.DEFAULT))),
                props.get(Constants.SERVICE_RANKING) instanceof Integer r ? r : 0,
                props.get(Constants.SERVICE_ID) instanceof Number id ? id.longValue() : -1, bundleId,
                Boolean.parseBoolean(String.valueOf(props.get(MemoryProvider.PRIVATE))));
    }

    /** A provider used outside the engine's registry (tests, benchmarks): no service, no quarantine. */
    static GuardedProvider standalone(MemoryProvider provider) {
        return of(provider, Map.of(), -1);
    }

    /**
     * Its faults go to {@code sink} from now on (one hop: the engine that took it), and its reads
     * run on {@code readers}' threads under their budget.
     */
    void reportTo(FaultSink sink, Budget readers) {
        this.sink = sink;
        this.readers = readers;
    }

    /** Higher ranking first, then the older service, as the framework orders services. */
    boolean beats(GuardedProvider o) {
        return ranking != o.ranking ? ranking > o.ranking : serviceId < o.serviceId;
    }

    boolean quarantined() {
        return quarantine != null;
    }

    // ---- the guarded calls --------------------------------------------------------------------

    /**
     * @throws ProviderRefusedException its refusal, an answer
     * @throws ProviderFailedException when it threw anything else, counted as a fault
     */
    void init(PagePoolImpl pool) throws ProviderRefusedException {
        boolean interrupted = Thread.currentThread().isInterrupted();
        long start = enter();
        boolean threw = false;
        try {
            provider.init(pool.context);
        } catch (ProviderRefusedException e) {
            throw e;
        } catch (Throwable t) {
            threw = true;
            String what = Faults.describe("init", t);
            fault(pool, Faults.Call.INIT, what, t);
            throw new ProviderFailedException("provider '" + name + "' failed to set up pool " + pool.id() + " "
                    + pool.describeQueue() + ": " + what);
        } finally {
            leave(start, POOL_CALL_BUDGET_NANOS, pool, Faults.Call.INIT, "init", threw);
            interruptAsBefore(interrupted, pool, Faults.Call.INIT, "init");
        }
    }

    /** Whether a call into the provider is in progress on some thread. */
    boolean inCall() {
        return inCall.get() > 0;
    }

    private long enter() {
        inCall.incrementAndGet();
        return System.nanoTime();
    }

    /**
     * A call returned (or threw): one that took longer than its budget is a fault of its own,
     * unless it already was one (it threw: charged once).
     */
    private void leave(long start, long budgetNanos, PagePoolImpl pool, Faults.Call call, String method,
            boolean threw) {
        inCall.decrementAndGet();
        if (!threw) {
            chargeIfSlow(pool, call, method, System.nanoTime() - start, budgetNanos);
        }
    }

    /** A call that answered, but later than its budget: a fault of its own. */
    private void chargeIfSlow(PagePoolImpl pool, Faults.Call call, String method, long tookNanos, long budgetNanos) {
        if (tookNanos > budgetNanos) {
            fault(pool, call, method + " took " + tookNanos / 1_000_000 + " ms (expected: within "
                    + budgetNanos / 1_000_000 + " ms)", null);
        }
    }

    /**
     * Puts the calling thread's interrupt flag back as it was before a call into the provider: a
     * provider that sets it (a driver's NAPI thread would then spin) or swallows it (a shutdown
     * would be missed) is other people's code acting on our thread. Setting it is counted.
     */
    private void interruptAsBefore(boolean before, PagePoolImpl pool, Faults.Call call, String method) {
        if (before) {
            Thread.currentThread().interrupt();
        } else if (Thread.interrupted()) {
            fault(pool, call, method + " left the calling thread interrupted (expected: its flag untouched)", null);
        }
    }

    /** @return pages filled, or -1 when it threw (counted) */
    int alloc(PagePoolImpl pool, Netmem[] batch, int max) {
        boolean interrupted = Thread.currentThread().isInterrupted();
        int n;
        long start = enter();
        boolean threw = false;
        try {
            n = provider.allocNetmems(pool.context, batch, max);
        } catch (Throwable t) {
            threw = true;
            fault(pool, Faults.Call.ALLOC, Faults.describe("allocNetmems", t), t);
            return -1;
        } finally {
            leave(start, PAGE_CALL_BUDGET_NANOS, pool, Faults.Call.ALLOC, "allocNetmems", threw);
            interruptAsBefore(interrupted, pool, Faults.Call.ALLOC, "allocNetmems");
        }
        if (n < 0) {
            fault(pool, Faults.Call.ALLOC, "allocNetmems returned " + n + " (expected: 0.." + max + ")", null);
            return -1;
        }
        return n;
    }

    /**
     * Gives a page back; what the provider throws is counted, and the page counts as back.
     *
     * @return whether the provider let the page go for good (false if it threw)
     */
    boolean release(PagePoolImpl pool, Netmem netmem) {
        boolean interrupted = Thread.currentThread().isInterrupted();
        long start = enter();
        boolean threw = false;
        try {
            return provider.releaseNetmem(pool.context, netmem);
        } catch (Throwable t) {
            threw = true;
            fault(pool, Faults.Call.RELEASE, Faults.describe("releaseNetmem", t), t);
            return false;
        } finally {
            leave(start, PAGE_CALL_BUDGET_NANOS, pool, Faults.Call.RELEASE, "releaseNetmem", threw);
            interruptAsBefore(interrupted, pool, Faults.Call.RELEASE, "releaseNetmem");
        }
    }

    /**
     * Gives {@code n} pages back in one guarded stretch, as a closing pool drains (a queue's
     * restart frees a ring of 1,024): each page as {@link #release} would, its slowness and what
     * it throws counted on its own, but the in-call mark, the interrupt check and the clock read
     * once for all (one read between two pages). Per page, those cost more than the heap
     * provider's release itself. Sets {@link PoolNetmem#gone} on each page the provider let go of
     * for good.
     */
    void releaseAll(PagePoolImpl pool, PoolNetmem[] pages, int n) {
        boolean interrupted = Thread.currentThread().isInterrupted();
        inCall.incrementAndGet();
        try {
            long before = System.nanoTime();
            for (int i = 0; i < n; i++) {
                PoolNetmem p = pages[i];
                boolean threw = false;
                try {
                    if (provider.releaseNetmem(pool.context, p)) {
                        p.gone = true; // the provider let it go for good: it must never come back
                    }
                } catch (Throwable t) {
                    threw = true;
                    fault(pool, Faults.Call.RELEASE, Faults.describe("releaseNetmem", t), t);
                }
                long after = System.nanoTime();
                if (!threw) {
                    chargeIfSlow(pool, Faults.Call.RELEASE, "releaseNetmem", after - before, PAGE_CALL_BUDGET_NANOS);
                }
                before = after;
            }
        } finally {
            inCall.decrementAndGet();
            interruptAsBefore(interrupted, pool, Faults.Call.RELEASE, "releaseNetmem");
        }
    }

    void destroy(PagePoolImpl pool) {
        boolean interrupted = Thread.currentThread().isInterrupted();
        long start = enter();
        boolean threw = false;
        try {
            provider.destroy(pool.context);
        } catch (Throwable t) {
            threw = true;
            fault(pool, Faults.Call.DESTROY, Faults.describe("destroy", t), t);
        } finally {
            leave(start, POOL_CALL_BUDGET_NANOS, pool, Faults.Call.DESTROY, "destroy", threw);
            interruptAsBefore(interrupted, pool, Faults.Call.DESTROY, "destroy");
        }
    }

    /**
     * What the provider reports of a pool, as data: read once here, each value kept only as a
     * number, a boolean or a short printable string, so what it says can neither break a table,
     * the JSON or a terminal, nor run its code later (a value's own {@code toString} is never called).
     * Within {@link #DESCRIBE_BUDGET_MILLIS}: past it the caller gets an error in its place, the
     * overrun is charged, and the provider is not asked again until it answers.
     */
    Map<String, Object> describe(PagePoolImpl pool) {
        Budget b = readers;
        if (b == null) {
            return describeNow(pool);
        }
        try {
            return describes.read(b, "describe of pool " + pool.id() + " by provider '" + name + "'",
                    () -> describeNow(pool));
        } catch (BoundedRead.OwingException e) {
            return Map.of("error", e.getMessage());
        } catch (Budget.OverBudgetException e) {
            String what = e.getMessage();
            fault(pool, Faults.Call.OTHER, what, null);
            return Map.of("error", what);
        } catch (Exception e) {
            return Map.of("error", Faults.describe("describe", e)); // describeNow answers every throw itself
        }
    }

    private Map<String, Object> describeNow(PagePoolImpl pool) {
        boolean interrupted = Thread.currentThread().isInterrupted();
        try {
            Map<String, Object> m = provider.describe(pool.context);
            return m == null ? Map.of() : ProviderInfoValues.of(m);
        } catch (Throwable t) {
            String what = Faults.describe("describe", t);
            fault(pool, Faults.Call.OTHER, what, t);
            return Map.of("error", what);
        } finally {
            interruptAsBefore(interrupted, pool, Faults.Call.OTHER, "describe");
        }
    }

    void uninstall(QueueId queue) {
        boolean interrupted = Thread.currentThread().isInterrupted();
        try {
            provider.uninstall(queue);
        } catch (Throwable t) {
            fault(null, Faults.Call.OTHER, Faults.describe("uninstall", t), t);
        } finally {
            interruptAsBefore(interrupted, null, Faults.Call.OTHER, "uninstall");
        }
    }

    /**
     * Counts a fault against the pool and the provider, logs the first of each call per pool, and
     * tells the engine so it can move the queue off this provider.
     */
    void fault(PagePoolImpl pool, Faults.Call call, String what, Throwable t) {
        faults.record(call, what);
        if (pool == null) {
            LOG.log(Level.WARNING, "provider ''{0}'': {1}", name, what);
            return;
        }
        if (pool.recordFault(call, what)) {
            LOG.log(Level.WARNING, "provider ''{0}'' faulted in pool {1} {2}: {3}", name, String.valueOf(pool.id()),
                    pool.describeQueue(), what);
            LOG.log(Level.DEBUG, "the fault's trace", t);
        }
        sink.providerFault(this, pool, call, what);
    }

    @Override
    public String toString() {
        return "provider '" + name + "' (service " + serviceId + ")";
    }
}

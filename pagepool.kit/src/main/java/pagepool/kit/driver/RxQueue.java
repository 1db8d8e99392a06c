package pagepool.kit.driver;

import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.Map;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.QueueId;
import pagepool.api.queue.QueueDebug.ResetMode;
import pagepool.api.queue.QueueMemory;
import pagepool.api.queue.QueueOperationException;

/**
 * One RX queue's state machine, the same for every driver: the memory it runs on, the queue
 * operations that change it (Linux's {@code netdev_queue_mgmt_ops}: mem alloc, stop, start,
 * mem free, plus the make-before-break swap), its failure and its NAPI context. Mem alloc and
 * mem free run on the caller's thread, as in Linux; start, stop and swap run on the queue's
 * {@link NapiLoop} between two polls (a swap, which allocates nothing, on the caller's thread
 * while the loop waits apart: {@link NapiLoop#callHeld}). The driver's subclass fills in what its
 * hardware does at each step (the hooks).
 *
 * <p>The rules it keeps: memory is allocated and filled before the queue stops (a provider slow
 * to set up delays this restart only, never the NAPI thread), memory that could not be filled is
 * freed, a failed start leaves the queue stopped and the memory the caller's, a failed swap
 * leaves the queue on its old memory, memory the queue runs on is never freed, and a queue that
 * failed receives nothing until its next start clears the failure. The reset mode decides whether a restart gets a new NAPI context and whether a stop
 * lets NAPI receive what already arrived.
 *
 * @param <M> the driver's queue memory
 */
public abstract class RxQueue<M extends QueueMemory> {

    private static final System.Logger LOG = System.getLogger(RxQueue.class.getName());

    protected final QueueId id;
    protected final int index;
    protected final QueueCounters counters;
    private final RxDevice<?, M> device;
    private final int restarts;
    private final int errors;
    private NapiLoop loop;

    /**
     * The memory the queue runs on, or null while stopped; whoever holds the NAPI context only
     * (the loop's thread, or a {@link NapiLoop#callHeld} caller: the hand-over orders it).
     */
    private M mem;
    /** The same, for readers on other threads (stats, close). */
    private volatile M published;
    /** Why the queue failed, or null; set on the loop's thread, cleared by the next start. */
    private volatile String fault;
    /** Whether the queue ever started; the NAPI context's holder only. */
    private boolean started;
    /** The NAPI id of the queue's NAPI context; a new context gets a new one. */
    private volatile int napiId;
    private final HeldPages held = new HeldPages();

    protected RxQueue(RxDevice<?, M> device, int index, QueueCounters counters) {
        this.device = device;
        this.index = index;
        this.id = new QueueId(device.name(), index);
        this.counters = counters;
        this.restarts = counters.index(QueueCounters.RESTARTS);
        this.errors = counters.index(QueueCounters.ERRORS);
    }

    /** Sets the loop the queue's NAPI context runs on; once, before the first operation. */
    public final void runOn(NapiLoop napi) {
        this.loop = napi;
    }

    public final NapiLoop loop() {
        return loop;
    }

    /** Starts the queue's own loop and waits until it is set up; a failure names the queue. */
    public final void open() {
        try {
            loop.start();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("queue " + id + ": " + e.getMessage(), e);
        }
    }

    /** Ends the queue's own loop (after {@link RxDevice#closeQueues}). */
    public final void close() {
        loop.close();
    }

    public final QueueId id() {
        return id;
    }

    public final int index() {
        return index;
    }

    public final QueueCounters counters() {
        return counters;
    }

    // ---- the driver's part: on the loop's thread unless said ----------------------------------------

    /**
     * Creates the queue's memory: its pools and ring, empty. Called on the caller's thread, in
     * process context as Linux's {@code ndo_queue_mem_alloc}: a slow provider delays this queue
     * only.
     */
    protected abstract M allocate() throws QueueOperationException;

    /**
     * Fills the new memory's ring from its pool, on the caller's thread: it must touch nothing
     * the queue's thread owns (that thread takes the memory at start or swap, where whatever
     * must happen there, e.g. registering the ring with the kernel, belongs).
     *
     * @throws QueueOperationException naming how many buffers the provider gave of how many
     */
    protected abstract void fill(M m) throws QueueOperationException;

    /** Why the device cannot receive into {@code m} (e.g. beyond its DMA mask), or null. */
    protected String unusable(M m) {
        return null;
    }

    /**
     * Stops receiving into {@code old}: the hardware lets go of it.
     *
     * @param receiveFirst whether NAPI takes what already arrived first (every reset mode but
     *        {@link ResetMode#NAPI_STOPPED_FIRST})
     */
    protected void stopping(M old, boolean receiveFirst) throws QueueOperationException {
    }

    /** Begins receiving into {@code m} (the queue was stopped). */
    protected void starting(M m) throws QueueOperationException {
    }

    /**
     * Moves the running receive from {@code old} to {@code m} in one step; {@code old} drains until
     * memFree. Holds the NAPI context, on the caller's thread when the loop waits apart
     * ({@link NapiLoop#callHeld}): it must allocate nothing from either memory's pools.
     */
    protected void swapping(M old, M m) throws QueueOperationException {
    }

    /**
     * Whether the hardware lets go of memory only on the queue's thread ({@link #letGo}), as an
     * io_uring registered by a single issuer unregisters a ring only there. The free that follows
     * ({@link #free}) runs on the caller's thread either way: the NAPI thread goes on polling, and
     * a swap handed to it next does not wait behind a thousand pages going back to their pool.
     */
    protected boolean letsGoOnLoop() {
        return false;
    }

    /**
     * With {@link #letsGoOnLoop}: the hardware lets go of memory the queue no longer runs on, on
     * the queue's thread; the pages stay posted until {@link #free}. Nothing else happens here.
     */
    protected void letGo(M m) throws QueueOperationException {
    }

    /**
     * Frees memory no queue runs on and the hardware let go of: posted buffers back to the pool,
     * the pools closed; any thread. Called once for each memory memFree is given; a driver whose
     * queue also frees at tear-down makes a second call do nothing.
     */
    protected abstract void free(M m);

    // ---- the queue operations, from the control thread ---------------------------------------------------

    /**
     * Allocates and fills memory for the queue, on the caller's thread (process context, as
     * Linux's {@code ndo_queue_mem_alloc}): the queue's NAPI thread goes on polling meanwhile, and
     * the restart costs it one hand-off (start or swap), not two. The filled pool is handed over
     * ({@link PagePool#handOverNapi}) to the NAPI thread, which takes it at start or swap. On any
     * failure nothing is left behind.
     */
    public final M memAlloc() throws QueueOperationException {
        M m;
        try {
            m = allocate();
        } catch (RuntimeException e) {
            throw failedOp(e);
        }
        try {
            fill(m);
            PagePool pool = m.pool();
            if (pool != null) {
                pool.handOverNapi();
            }
            return m;
        } catch (QueueOperationException | RuntimeException | Error e) {
            free(m);
            if (e instanceof RuntimeException r) {
                throw failedOp(r);
            }
            throw e;
        }
    }

    private QueueOperationException failedOp(RuntimeException e) {
        return new QueueOperationException("queue " + id + ": " + (e.getMessage() != null ? e.getMessage() : e), e);
    }

    /** Stops the queue; returns the memory it ran on, or null when it was stopped already. */
    public final M stop() throws QueueOperationException {
        return loop.call(id, () -> {
            M old = mem;
            if (old != null) {
                stopping(old, device.resetMode() != ResetMode.NAPI_STOPPED_FIRST);
            }
            setMem(null);
            return old;
        });
    }

    /** Starts the stopped queue on {@code m}; on failure it stays stopped and {@code m} stays the caller's. */
    public final void start(M m) throws QueueOperationException {
        loop.call(id, () -> {
            if (mem != null) {
                throw new QueueOperationException("queue " + id + " is running (expected: a stopped queue)");
            }
            checkUsable(m);
            starting(m);
            setMem(m);
            fault = null;
            if (started) {
                counters.add(restarts, 1); // a first start is no restart
            }
            if (!started || device.resetMode() != ResetMode.POOL) {
                napiId = device.newNapiId(); // a new NAPI context
            }
            started = true;
            counters.publish();
            return null;
        });
    }

    /**
     * Make-before-break: switches the running queue to {@code m} between two polls, so no packet
     * finds it stopped. In {@link ResetMode#NAPI} a new NAPI context takes over at the switch.
     *
     * @return the memory it ran on
     */
    public final M swap(M m) throws QueueOperationException {
        return loop.callHeld(id, () -> {
            M old = mem;
            if (old == null) {
                throw new QueueOperationException("queue " + id + " is stopped (expected: a running queue)");
            }
            checkUsable(m);
            swapping(old, m);
            setMem(m);
            fault = null;
            counters.add(restarts, 1);
            if (device.resetMode() == ResetMode.NAPI) {
                napiId = device.newNapiId();
            }
            counters.publish();
            return old;
        });
    }

    private void checkUsable(M m) throws QueueOperationException {
        String bad = unusable(m);
        if (bad != null) {
            throw new QueueOperationException("queue " + id + ": " + bad);
        }
    }

    /**
     * Frees memory the queue was stopped or swapped off in process context, as Linux's
     * {@code ndo_queue_mem_free}; where the driver's hardware lets go of it only on the queue's
     * thread ({@link #letsGoOnLoop}), that part runs there first (at once when the loop is gone).
     */
    public final void memFree(M m) {
        if (m == published) {
            LOG.log(Level.ERROR, "memFree of " + id + ": the queue runs on " + m + " (expected: memory it was stopped"
                    + " or swapped off); not freed");
            return;
        }
        if (letsGoOnLoop() && loop.alive()) {
            try {
                loop.call(id, () -> {
                    if (m == mem) {
                        throw new QueueOperationException("queue " + id + " runs on " + m
                                + " (expected: memory it was stopped or swapped off)");
                    }
                    letGo(m);
                    return null;
                });
            } catch (QueueOperationException e) {
                LOG.log(Level.ERROR, "memFree of " + id + ": " + e.getMessage() + "; not freed", e);
                return;
            }
        }
        free(m);
    }

    private void setMem(M m) {
        mem = m;
        published = m;
    }

    /** The memory the queue runs on, or null; the NAPI context's holder only. */
    protected final M mem() {
        return mem;
    }

    /** The same, from any thread. */
    public final M published() {
        return published;
    }

    public final boolean running() {
        return published != null;
    }

    /** Whether the queue ever started: its wire begins with its first start. */
    protected final boolean started() {
        return started;
    }

    /** Why the queue failed, or null while it is healthy. */
    public final String fault() {
        return fault;
    }

    public final boolean failed() {
        return fault != null;
    }

    /**
     * NAPI met something it did not expect: count it, and fail the queue until its next start
     * (the engine restarts failed queues). Logged once per failure.
     */
    public final void failed(Throwable t) {
        if (loop.isCurrent()) {
            counters.add(errors, 1);
            counters.publish();
        } else {
            counters.addShared(errors, 1);
        }
        String why = "NAPI: " + t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        if (fault == null) {
            LOG.log(Level.WARNING, "queue " + id + " failed; it receives nothing until it is restarted: " + why, t);
        }
        fault = why;
    }

    // ---- pp_hold -------------------------------------------------------------------------------------------

    /** Takes a page of the running pool on the loop's thread (its owner) and keeps it. */
    public final boolean holdPage() throws QueueOperationException {
        return loop.call(id, () -> {
            M m = mem;
            PagePool pool = m == null ? null : m.pool();
            Netmem nm = pool == null ? null : pool.alloc();
            if (nm == null) {
                return false;
            }
            held.add(nm, pool);
            return true;
        });
    }

    /** Gives the held pages back, from any thread, as a consumer would. */
    public final int releaseHeldPages() {
        return held.releaseAll();
    }

    public final int heldPages() {
        return held.count();
    }

    // ---- statistics -----------------------------------------------------------------------------------------

    /**
     * The queue's counters by name, then {@code pool-id}, {@code napi-id} and {@code held-pages}.
     * A driver adds what only it knows with {@link #moreStats}.
     */
    public final Map<String, Long> stats() {
        Map<String, Long> m = counters.putInto(new LinkedHashMap<>());
        moreStats(m);
        M mine = published;
        PagePool p = mine == null ? null : mine.pool();
        m.put("pool-id", p == null ? 0L : p.id());
        m.put("napi-id", (long) napiId);
        m.put("held-pages", (long) heldPages());
        return m;
    }

    /** Adds the driver's own figures to {@link #stats}. */
    protected void moreStats(Map<String, Long> m) {
    }
}

package pagepool.driver.sim;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.api.QueueId;
import pagepool.api.queue.QueueDebug.ResetMode;
import pagepool.api.queue.QueueOperationException;

/**
 * One RX queue: the memory it runs on and the queue operations that change it, and its NAPI
 * context. Each poll, on its NAPI thread (shared with other queues), takes the packets the wire
 * offers now ({@link Pacing}) through the queue's {@link RxPath}, which counts them in the
 * queue's {@link QueueCounters}.
 *
 * <p>Every queue operation (memAlloc, stop, start) runs on the NAPI thread as a task between two
 * polls, so a poll never sees memory change under it. A poll that meets an unexpected error has
 * it counted, the queue marked failed with the reason (it then drops what arrives, counted), and
 * the next start clears it; the engine restarts failed queues.
 */
final class SimQueue {

    private static final System.Logger LOG = System.getLogger(SimQueue.class.getName());
    private static final int NAPI_BUDGET = 64;
    private static final long OP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** What a queue operation does on the NAPI thread. */
    private interface NapiTask<T> {
        T run() throws QueueOperationException;
    }

    final SimDevice device;
    final int index;
    final QueueId id;
    final SocketQueue socket;
    private final SimSettings settings;
    /** The NAPI thread this queue's context runs on; set once by the device. */
    private NapiThread napi;
    private final Pacing pacing;
    final Iotlb iotlb;
    final QueueCounters counters = new QueueCounters();
    private final RxPath rx;

    /** The memory the queue runs on, or null while stopped; NAPI thread only. */
    private QueueMem mem;
    /** The same, for readers off the NAPI thread (counters, close). */
    private volatile QueueMem published;
    /** Why the queue failed, or null; set by NAPI, cleared by the next start. */
    private volatile String fault;
    /** Whether the queue ever started; NAPI thread only. */
    private boolean started;
    /** The NAPI id of the queue's NAPI context; a new context gets a new one. */
    private volatile int napiId;
    /** A page of the queue's pool held outside it (pp_hold), with its pool and generation. */
    private record Held(Netmem page, PagePool pool, int generation) {
    }

    private final List<Held> held = new ArrayList<>();

    SimQueue(SimDevice device, int index, SimSettings settings, Packet.Template template) {
        this.device = device;
        this.index = index;
        this.id = new QueueId(settings.name(), index);
        this.settings = settings;
        // A socket backlog of twice the ring, at least 1024 packets (about 1.5 MB of 1500-byte packets).
        this.socket = new SocketQueue(this, Math.max(1024, 2 * settings.ringSize()));
        this.iotlb = new Iotlb(settings.iotlbEntries(), settings.iotlbWays());
        this.pacing = new Pacing(settings.ratePps());
        this.rx = new RxPath(this, settings, template, counters, iotlb);
    }

    void runOn(NapiThread thread) {
        this.napi = thread;
    }

    // ---- queue management, from the control thread --------------------------------------------

    /**
     * Creates pools and fills a ring on the NAPI thread, which will own them. On any failure the
     * pools made so far are closed: nothing is left behind.
     */
    QueueMem memAlloc(PoolFactoryAccess pools) throws QueueOperationException {
        // The pools are made here, in process context as Linux's queue_mem_alloc: a provider slow to
        // set one up delays this queue's restart, not the other queues on its NAPI thread.
        QueueMem m;
        try {
            m = pools.create(index);
        } catch (RuntimeException e) {
            throw new QueueOperationException("queue " + id + ": " + (e.getMessage() != null ? e.getMessage() : e), e);
        }
        return onNapi(() -> {
            try {
                Netmem[] batch = new Netmem[64];
                int room;
                while ((room = Math.min(m.room(), batch.length)) > 0) {
                    int n = m.dataPool.alloc(batch, room);
                    for (int i = 0; i < n; i++) {
                        m.post(batch[i]);
                    }
                    if (n < room) {
                        throw new QueueOperationException("queue " + id + ": provider '" + m.dataPool.info().provider()
                                + "' gave " + m.posted() + " of " + settings.ringSize() + " RX buffers");
                    }
                }
            } catch (QueueOperationException | RuntimeException | Error e) {
                m.free();
                throw e;
            }
            return m;
        }, QueueMem::free);
    }

    /**
     * Stops the queue: NAPI first receives what arrived on the old memory, then lets go of it;
     * packets are dropped until start.
     *
     * @return the memory it ran on, or null when it was stopped already
     */
    QueueMem stop() throws QueueOperationException {
        return onNapi(() -> {
            QueueMem old = mem;
            if (old != null && device.resetMode() != ResetMode.NAPI_STOPPED_FIRST) {
                poll(old);
            }
            setMem(null);
            return old;
        });
    }

    void start(QueueMem m) throws QueueOperationException {
        onNapi(() -> {
            if (mem != null) {
                throw new QueueOperationException("queue " + id + " is running (expected: a stopped queue)");
            }
            String bad = m.unreachable(settings.dmaMaskBits());
            if (bad != null) {
                throw new QueueOperationException("queue " + id + ": " + bad);
            }
            setMem(m);
            fault = null;
            if (started) {
                counters.restarts.incrementAndGet(); // a first start is no restart
            }
            if (!started || device.resetMode() != ResetMode.POOL) {
                napiId = device.newNapiId(); // a new NAPI context
            }
            started = true;
            return null;
        });
    }

    /**
     * Make-before-break: switches the running queue to {@code m} between two polls, so no packet
     * finds it stopped; the NAPI context stays. The next poll receives into the new ring; the old
     * one keeps its unused buffers for memFree.
     *
     * @return the memory it ran on
     */
    QueueMem swap(QueueMem m) throws QueueOperationException {
        return onNapi(() -> {
            QueueMem old = mem;
            if (old == null) {
                throw new QueueOperationException("queue " + id + " is stopped (expected: a running queue)");
            }
            String bad = m.unreachable(settings.dmaMaskBits());
            if (bad != null) {
                throw new QueueOperationException("queue " + id + ": " + bad);
            }
            setMem(m);
            fault = null;
            counters.restarts.incrementAndGet();
            if (device.resetMode() == ResetMode.NAPI) {
                napiId = device.newNapiId(); // the new context takes over at the switch: nothing is dropped
            }
            return old;
        });
    }

    /** Ends the NAPI thread's sleep: a socket the queue held back for has room again. */
    void wakeNapi() {
        napi.wake();
    }

    /** Whether the queue runs on memory (started, not stopped). */
    boolean running() {
        return published != null;
    }

    private void setMem(QueueMem m) {
        mem = m;
        published = m;
    }

    /** Why the queue failed, or null while it is healthy. */
    String fault() {
        return fault;
    }

    /** pp_hold: takes a page of the running pool on the NAPI thread (its owner) and keeps it. */
    boolean holdPage() throws QueueOperationException {
        return onNapi(() -> {
            QueueMem m = mem;
            Netmem nm = m == null ? null : m.dataPool.alloc();
            if (nm == null) {
                return false;
            }
            synchronized (held) {
                held.add(new Held(nm, m.dataPool, nm.generation()));
            }
            return true;
        });
    }

    /** Gives the held pages back, from any thread, as a consumer would. */
    int releaseHeldPages() {
        List<Held> out;
        synchronized (held) {
            out = List.copyOf(held);
            held.clear();
        }
        for (Held h : out) {
            h.pool().release(h.page(), h.generation());
        }
        return out.size();
    }

    int heldPages() {
        synchronized (held) {
            return held.size();
        }
    }

    private <T> T onNapi(NapiTask<T> work) throws QueueOperationException {
        return onNapi(work, late -> { });
    }

    /**
     * Runs a queue operation on the NAPI thread and waits at most {@link #OP_TIMEOUT_NANOS}.
     *
     * @param late takes what the operation gives after the caller stopped waiting (memory
     *        allocated too late is freed, not left behind)
     */
    private <T> T onNapi(NapiTask<T> work, java.util.function.Consumer<T> late) throws QueueOperationException {
        if (napi.isCurrent()) {
            return work.run();
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        napi.submit(() -> {
            T v;
            try {
                v = work.run();
            } catch (Throwable e) {
                f.completeExceptionally(e);
                return;
            }
            if (!f.complete(v) && v != null) {
                late.accept(v);
            }
        });
        try {
            return f.get(OP_TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof QueueOperationException q) {
                throw q;
            }
            throw new QueueOperationException("queue " + id + ": " + (c.getMessage() != null ? c.getMessage() : c), c);
        } catch (TimeoutException e) {
            if (!f.completeExceptionally(e)) {
                try {
                    return f.getNow(null); // it answered just now
                } catch (java.util.concurrent.CompletionException c) {
                    throw new QueueOperationException("queue " + id + ": " + c.getCause().getMessage(), c.getCause());
                }
            }
            throw new QueueOperationException("queue " + id + ": NAPI did not answer within 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QueueOperationException("queue " + id + ": interrupted");
        }
    }

    // ---- the NAPI context, on its thread ---------------------------------------------------------

    /** One NAPI poll of this queue: receive what the wire offers now, then refill the ring. */
    int poll() {
        return poll(mem);
    }

    private int poll(QueueMem m) {
        // A queue that was never enabled receives nothing: its wire starts with its first start.
        int budget = pacing.due(started && device.trafficOn(), NAPI_BUDGET);
        boolean failed = fault != null;
        int taken = 0;
        while (taken < budget && rx.receive(m, failed)) {
            taken++;
        }
        pacing.giveBack(budget - taken); // held back by a full socket: due again at the next poll
        if (m != null && fault == null) {
            rx.refill(m);
        }
        return taken;
    }

    long nanosToNextPacket() {
        return pacing.nanosToNext(started && device.trafficOn(), NAPI_BUDGET);
    }

    /** NAPI met something it did not expect: count it, and fail the queue until its next start. */
    void failed(Throwable t) {
        counters.errors.incrementAndGet();
        String why = "NAPI: " + t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        if (fault == null) {
            LOG.log(Level.WARNING, "queue " + id + " failed; it drops packets until it is restarted: " + why, t);
        }
        fault = why;
    }

    /** The queue's counters now. */
    QueueStats stats() {
        QueueMem m = published;
        return counters.snapshot(iotlb, m == null ? 0 : m.dataPool.id(), napiId, heldPages());
    }

    /** Creates a queue's memory for the device; implemented by {@link SimDevice}. */
    interface PoolFactoryAccess {
        QueueMem create(int queue);
    }

    static PoolParams.Builder dataPoolParams(SimSettings s, int queue) {
        int flags = PoolParams.DMA_MAP | PoolParams.DMA_SYNC_DEV
                | (s.headerSplit() ? PoolParams.ALLOW_UNREADABLE_NETMEM : 0);
        return PoolParams.builder().flags(flags).maxLen(4096).poolSize(Math.max(1024, s.ringSize()))
                .queue(s.name(), queue);
    }

    static PoolParams headerPoolParams(SimSettings s, int queue) {
        return PoolParams.builder().flags(PoolParams.DMA_MAP).poolSize(256).queue(s.name(), queue).build();
    }
}

package pagepool.driver.sim;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import java.util.ArrayList;
import java.util.List;

import pagepool.api.Frag;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.api.QueueId;
import pagepool.api.queue.QueueDebug.ResetMode;
import pagepool.api.queue.QueueOperationException;

/**
 * One RX queue: the memory it runs on, its NAPI context's work, and its counters. Its NAPI thread
 * (shared with other queues) generates the queue's traffic (the wire), DMA-writes packets into
 * posted buffers, delivers them (consumed in NAPI, or handed to a socket thread), and refills the
 * ring from the pool. Counters without synchronisation are the NAPI thread's; readers see them a
 * little late.
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
    private final Packet.Template template;
    /** The NAPI thread this queue's context runs on; set once by the device. */
    private NapiThread napi;
    private final Pacing pacing;
    private final Frag headerFrag = new Frag();
    final Iotlb iotlb;
    /** Where the simulated GPU reads device-memory payloads to verify them, on the NAPI thread. */
    private final MemorySegment deviceScratch = java.lang.foreign.Arena.ofAuto().allocate(Packet.MAX_SIZE);
    private final SplittableRandom rnd;

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

    // NAPI thread's counters.
    long generated;
    long delivered;
    long bytes;
    long dropsNoBuffer;
    long dropsStopped;
    long dropsBacklog;
    long dropsFailed;
    long allocFailures;
    long verifiedInNapi;
    long corruptInNapi;
    // Written by the control thread or the socket threads.
    final AtomicLong restarts = new AtomicLong();
    final AtomicLong verifiedBySocket = new AtomicLong();
    final AtomicLong corruptBySocket = new AtomicLong();
    /** Unexpected errors met by the NAPI loop or the socket thread on this queue's packets. */
    final AtomicLong errors = new AtomicLong();
    /** Device-memory frags of this queue held by applications as tokens. */
    final AtomicLong tokensOut = new AtomicLong();
    /** Device-memory frags delivered to applications as descriptors (buffer, offset, size, token). */
    final AtomicLong devmemFrags = new AtomicLong();
    volatile String lastCorruption = "";

    SimQueue(SimDevice device, int index, SimSettings settings, Packet.Template template) {
        this.device = device;
        this.index = index;
        this.id = new QueueId(settings.name(), index);
        this.settings = settings;
        this.template = template;
        // A socket backlog of twice the ring, at least 1024 packets (about 1.5 MB of 1500-byte packets).
        this.socket = new SocketQueue(this, Math.max(1024, 2 * settings.ringSize()));
        this.rnd = new SplittableRandom(31L * index + settings.name().hashCode());
        this.iotlb = new Iotlb(settings.iotlbEntries(), settings.iotlbWays());
        this.pacing = new Pacing(settings.ratePps());
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
        return onNapi(() -> {
            QueueMem m = pools.create(index);
            try {
                while (!m.full()) {
                    Netmem nm = m.dataPool.alloc();
                    if (nm == null) {
                        throw new QueueOperationException("queue " + id + ": provider '" + m.dataPool.info().provider()
                                + "' gave " + m.posted() + " of " + settings.ringSize() + " RX buffers");
                    }
                    m.post(nm);
                }
            } catch (QueueOperationException | RuntimeException | Error e) {
                m.free();
                throw e;
            }
            return m;
        });
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
                restarts.incrementAndGet(); // a first start is no restart
            }
            if (!started || device.resetMode() != ResetMode.POOL) {
                napiId = device.newNapiId(); // a new NAPI context
            }
            started = true;
            return null;
        });
    }

    private void setMem(QueueMem m) {
        mem = m;
        published = m;
    }

    boolean running() {
        return published != null;
    }

    QueueMem memory() {
        return published;
    }

    /** Why the queue failed, or null while it is healthy. */
    String fault() {
        return fault;
    }

    int napiId() {
        return napiId;
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
        if (napi.isCurrent()) {
            return work.run();
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        napi.submit(() -> {
            try {
                f.complete(work.run());
            } catch (Throwable e) {
                f.completeExceptionally(e);
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
        for (int i = 0; i < budget; i++) {
            receive(m);
        }
        if (m != null && fault == null) {
            refill(m);
        }
        return budget;
    }

    long nanosToNextPacket() {
        return pacing.nanosToNext(started && device.trafficOn(), NAPI_BUDGET);
    }

    /** NAPI met something it did not expect: count it, and fail the queue until its next start. */
    void failed(Throwable t) {
        errors.incrementAndGet();
        String why = "NAPI: " + t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        if (fault == null) {
            LOG.log(Level.WARNING, "queue " + id + " failed; it drops packets until it is restarted: " + why, t);
        }
        fault = why;
    }

    private void receive(QueueMem m) {
        long seq = generated++;
        if (m == null) {
            dropsStopped++;
            return;
        }
        if (fault != null) {
            dropsFailed++;
            return;
        }
        Netmem data = m.take();
        if (data == null) {
            dropsNoBuffer++;
            return;
        }
        Netmem header = null;
        try {
            int size = settings.packetSizeMin() == settings.packetSizeMax() ? settings.packetSizeMin()
                    : settings.packetSizeMin() + rnd.nextInt(settings.packetSizeMax() - settings.packetSizeMin() + 1);
            int headerAt;
            int payloadAt;
            int payloadLen = size - Packet.HEADER_LEN;
            if (m.headerPool != null) {
                if (!m.headerPool.allocFrag(Packet.HEADER_LEN, headerFrag)) {
                    m.untake(data);
                    dropsNoBuffer++;
                    return;
                }
                header = headerFrag.netmem();
                headerAt = headerFrag.offset();
                payloadAt = 0;
            } else {
                headerAt = 0;
                payloadAt = Packet.HEADER_LEN;
            }
            if (!dmaWrite(m, header != null ? header : data, headerAt, data, payloadAt, seq, payloadLen)) {
                dropsFailed++;
                drop(m, data, header);
                return;
            }
            Netmem d = data;
            Netmem h = header;
            data = null; // delivered from here on: the consumer gives both back
            header = null;
            boolean toSocket = settings.socketFraction() > 0 && rnd.nextDouble() < settings.socketFraction();
            if (toSocket ? toSocket(m, d, payloadAt, h, headerAt) : consumeInNapi(m, d, payloadAt, h, headerAt)) {
                delivered++;
                bytes += size;
            }
        } finally {
            if (data != null) {
                // Something failed before delivery: the packet is counted as dropped, its buffers
                // go back; neither is lost.
                dropsFailed++;
                drop(m, data, header);
            }
        }
    }

    private static void drop(QueueMem m, Netmem data, Netmem header) {
        m.dataPool.recycleDirect(data);
        if (header != null) {
            m.headerPool.recycleDirect(header);
        }
    }

    /**
     * What the NIC writes: the header into host memory, the payload into the queue's memory.
     *
     * @return false when device memory failed (its provider's fault, counted by the pool)
     */
    private boolean dmaWrite(QueueMem m, Netmem header, int headerAt, Netmem data, int payloadAt, long seq,
            int payloadLen) {
        // Every DMA write goes through the IOMMU: one translation per buffer written.
        iotlb.translate(data.dmaAddress() + payloadAt, data.area().dmaMappingShift());
        if (header != data) {
            iotlb.translate(header.dmaAddress() + headerAt, header.area().dmaMappingShift());
        }
        long checksum = template.checksum(seq, payloadLen);
        MemorySegment hdr = header.segment();
        Packet.writeHeader(hdr, headerAt, seq, payloadLen, index, checksum);
        if (data.isReadable()) {
            Packet.writePayload(template, seq, data == header ? hdr : data.segment(), payloadAt, payloadLen);
            return true;
        }
        return m.dataPool.deviceWrite(data, payloadAt, template.bytes, template.payloadOffset(seq), payloadLen);
    }

    /** The stack takes the packet in NAPI context and frees it there: direct recycling. */
    private boolean consumeInNapi(QueueMem m, Netmem data, int payloadAt, Netmem header, int headerAt) {
        String bad;
        try {
            bad = device.verify(this, m.dataPool, data, payloadAt, header, headerAt, deviceScratch);
        } finally {
            drop(m, data, header);
        }
        if (bad == null) {
            verifiedInNapi++;
        } else {
            corruptInNapi++;
            lastCorruption = bad;
        }
        return true;
    }

    /** The packet goes to a socket thread, which releases it later: ring recycling. */
    private boolean toSocket(QueueMem m, Netmem data, int payloadAt, Netmem header, int headerAt) {
        SocketQueue.Delivery d = socket.claim();
        if (d == null) {
            // The socket's backlog is full: the stack drops the packet.
            dropsBacklog++;
            drop(m, data, header);
            return false;
        }
        d.data = data;
        d.dataPool = m.dataPool;
        d.dataGen = data.generation();
        d.payloadAt = payloadAt;
        d.header = header;
        d.headerPool = m.headerPool;
        d.headerGen = header == null ? 0 : headerFrag.generation();
        d.headerAt = headerAt;
        socket.publish();
        return true;
    }

    private void refill(QueueMem m) {
        while (!m.full()) {
            Netmem nm = m.dataPool.alloc();
            if (nm == null) {
                allocFailures++;
                return;
            }
            m.post(nm);
        }
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

package pagepool.driver.sim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import pagepool.api.Checks;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PagePoolFactory;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueDebug;
import pagepool.api.queue.QueueMemory;
import pagepool.api.queue.QueueOperationException;

/**
 * A simulated multi-queue NIC: one {@link SimQueue} per RX queue, socket threads that play the
 * stack's receivers, and the queue-management ops. It creates its pools through the
 * {@link PagePoolFactory} and never learns which provider is behind them.
 */
public final class SimDevice implements NetDevice, QueueDebug, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(SimDevice.class.getName());

    private final SimSettings settings;
    private final PagePoolFactory pools;
    private final Arena arena = Arena.ofShared();
    private final Packet.Template template;
    private final SimQueue[] queues;
    private final List<NapiThread> napis = new ArrayList<>();
    private final List<SocketReader> readers = new ArrayList<>();
    private volatile boolean carrier;
    private volatile boolean adminUp;
    private volatile ResetMode resetMode = ResetMode.POOL;
    /** NAPI ids handed to queues' NAPI contexts, as the kernel numbers them (from 1). */
    private final java.util.concurrent.atomic.AtomicInteger napiIds = new java.util.concurrent.atomic.AtomicInteger();
    private boolean closed;

    public SimDevice(SimSettings settings, PagePoolFactory pools) {
        this.settings = settings;
        this.pools = pools;
        this.adminUp = settings.up();
        this.template = new Packet.Template(arena, settings.name().hashCode());
        this.queues = new SimQueue[settings.rxQueues()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new SimQueue(this, i, settings, template);
        }
        int threads = settings.napiThreadCount();
        for (int t = 0; t < threads; t++) {
            List<SimQueue> mine = new ArrayList<>();
            for (int i = t; i < queues.length; i += threads) {
                mine.add(queues[i]);
            }
            NapiThread napi = new NapiThread("napi-" + settings.name() + "-" + t, mine);
            mine.forEach(q -> q.runOn(napi));
            napis.add(napi);
        }
        for (int r = 0; r < settings.consumerThreads(); r++) {
            List<SocketQueue> mine = new ArrayList<>();
            for (int i = r; i < queues.length; i += settings.consumerThreads()) {
                mine.add(queues[i].socket);
            }
            readers.add(new SocketReader(settings.name() + "-sock-" + r, mine, settings.holdMicros()));
        }
    }

    /**
     * Brings the device up with every queue stopped: NAPI and socket threads run, and the link
     * comes up if the settings say so. Packets that arrive on a stopped queue are dropped and
     * counted until the engine, told of the device, starts the queue on the memory it should
     * have (a restart from no memory).
     */
    public SimDevice open() {
        napis.forEach(NapiThread::start);
        readers.forEach(SocketReader::start);
        carrier = settings.traffic();
        return this;
    }

    private QueueMem createMemory(int queue) {
        PagePool data = pools.create(SimQueue.dataPoolParams(settings, queue).build());
        PagePool header = null;
        if (settings.headerSplit()) {
            try {
                header = pools.create(SimQueue.headerPoolParams(settings, queue));
            } catch (RuntimeException e) {
                data.close();
                throw e;
            }
        }
        return new QueueMem(queue, data, header, settings.ringSize());
    }

    public SimSettings settings() {
        return settings;
    }

    Packet.Template template() {
        return template;
    }

    boolean trafficOn() {
        return carrier;
    }

    // ---- NetDevice ------------------------------------------------------------------------------

    @Override
    public String name() {
        return settings.name();
    }

    @Override
    public int rxQueueCount() {
        return queues.length;
    }

    @Override
    public boolean headerSplit() {
        return settings.headerSplit();
    }

    @Override
    public QueueMemory memAlloc(int queue) throws QueueOperationException {
        return queue(queue).memAlloc(this::createMemory);
    }

    @Override
    public QueueMemory stop(int queue) throws QueueOperationException {
        return queue(queue).stop();
    }

    @Override
    public void start(int queue, QueueMemory memory) throws QueueOperationException {
        queue(queue).start(ownMemory(queue, memory));
    }

    private QueueMem ownMemory(int queue, QueueMemory memory) throws QueueOperationException {
        if (!(memory instanceof QueueMem m) || m.queue != queue) {
            throw new QueueOperationException("queue " + settings.name() + "/" + queue + ": memory " + memory
                    + " was not allocated for it by memAlloc");
        }
        return m;
    }

    /**
     * A running queue swaps between two polls, with a new NAPI context in {@link ResetMode#NAPI};
     * only {@link ResetMode#NAPI_STOPPED_FIRST} stops it first, and drops what arrives meanwhile.
     */
    @Override
    public boolean canSwap(int queue) {
        return resetMode() != ResetMode.NAPI_STOPPED_FIRST && queueOrThrow(queue).running();
    }

    @Override
    public QueueMemory swap(int queue, QueueMemory memory) throws QueueOperationException {
        return queue(queue).swap(ownMemory(queue, memory));
    }

    @Override
    public void memFree(QueueMemory memory) {
        if (memory instanceof QueueMem m) {
            m.free();
        }
    }

    @Override
    public String queueFault(int queue) {
        return queueOrThrow(queue).fault();
    }

    @Override
    public Map<String, Long> queueStats(int queue) {
        return queueOrThrow(queue).stats().toMap();
    }

    @Override
    public boolean adminUp() {
        return adminUp;
    }

    @Override
    public void setAdminUp(boolean up) {
        adminUp = up;
    }

    @Override
    public boolean carrier() {
        return carrier;
    }

    // ---- netdevsim's debugging aids ----------------------------------------------------------------

    @Override
    public boolean holdPage(int queue) {
        try {
            return queueOrThrow(queue).holdPage();
        } catch (QueueOperationException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public int releaseHeldPages(int queue) {
        return queueOrThrow(queue).releaseHeldPages();
    }

    @Override
    public int heldPages(int queue) {
        return queueOrThrow(queue).heldPages();
    }

    @Override
    public void resetMode(ResetMode mode) {
        resetMode = java.util.Objects.requireNonNull(mode, "mode");
    }

    @Override
    public ResetMode resetMode() {
        return resetMode;
    }

    int newNapiId() {
        return napiIds.incrementAndGet();
    }

    @Override
    public void setCarrier(boolean up) {
        carrier = up;
    }

    private SimQueue queue(int queue) throws QueueOperationException {
        try {
            return queueOrThrow(queue);
        } catch (IllegalArgumentException e) {
            throw new QueueOperationException(e.getMessage());
        }
    }

    private SimQueue queueOrThrow(int queue) {
        if (queue < 0 || queue >= queues.length) {
            throw Checks.invalid("queue", queue, "0.." + (queues.length - 1) + " on " + settings.name());
        }
        return queues[queue];
    }

    /** The last corruption a queue saw, or empty. */
    public String lastCorruption(int queue) {
        return queueOrThrow(queue).counters.lastCorruption;
    }

    // ---- what the NIC and the stack do with packets -------------------------------------------

    /**
     * Verifies a packet where it landed; null when intact. A payload in host memory is read by
     * the CPU; one in device memory is read by the device that owns it (the simulated GPU) into
     * {@code deviceScratch}, a page of the calling thread's, through the pool it came from.
     */
    String verify(SimQueue q, PagePool dataPool, Netmem data, int payloadAt, Netmem header, int headerAt,
            MemorySegment deviceScratch) {
        Netmem h = header != null ? header : data;
        MemorySegment hdr = h.area().memory();
        long hdrAt = Packet.pageOffset(h) + headerAt;
        MemorySegment payload;
        long at;
        if (data.isReadable()) {
            payload = data.area().memory();
            at = Packet.pageOffset(data) + payloadAt;
        } else {
            int len = hdr.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, hdrAt + Packet.LEN);
            if (len < 0 || payloadAt + len > data.size()) {
                return "bad length " + len;
            }
            if (!dataPool.deviceRead(data, payloadAt, deviceScratch, 0, len)) {
                return "device memory failed while reading packet at " + data;
            }
            payload = deviceScratch;
            at = 0;
        }
        return Packet.verify(template, hdr, hdrAt, payload, at, q.index);
    }

    // ---- life -----------------------------------------------------------------------------------

    /**
     * Takes the link down, stops every queue and frees its memory, then lets the socket threads
     * give back every page they hold. After close, every pool of the device has been closed.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        carrier = false;
        for (SimQueue q : queues) {
            q.releaseHeldPages();
            try {
                QueueMem m = q.stop();
                if (m != null) {
                    m.free();
                }
            } catch (QueueOperationException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "closing " + q.id + ": " + e.getMessage(), e);
            }
        }
        for (NapiThread n : napis) {
            try {
                n.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (SocketReader r : readers) {
            r.close();
        }
        arena.close();
    }
}

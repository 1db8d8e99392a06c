package pagepool.driver.sim;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import pagepool.api.Frag;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.api.QueueId;
import pagepool.api.queue.QueueOperationException;

/**
 * One RX queue: its NAPI thread, the memory it runs on, and its counters. The NAPI thread
 * generates the queue's traffic (the wire), DMA-writes packets into posted buffers, delivers them
 * (consumed in NAPI, or handed to a socket thread), and refills the ring from the pool.
 * Counters without synchronisation are the NAPI thread's; readers see them a little late.
 */
final class SimQueue implements Runnable {

    private static final int NAPI_BUDGET = 64;
    private static final long OP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    final SimDevice device;
    final int index;
    final QueueId id;
    final SocketQueue socket;
    private final SimSettings settings;
    private final Packet.Template template;
    private final Thread napi;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Frag headerFrag = new Frag();
    final Iotlb iotlb;
    /** Where the simulated GPU reads device-memory payloads to verify them, on the NAPI thread. */
    private final MemorySegment deviceScratch = java.lang.foreign.Arena.ofAuto().allocate(Packet.MAX_SIZE);
    private final SplittableRandom rnd;

    private volatile QueueMem mem;
    private volatile boolean stopRequested = true;
    private volatile boolean napiStopped = true;
    private volatile boolean closing;

    // NAPI thread's counters.
    long generated;
    long delivered;
    long bytes;
    long dropsNoBuffer;
    long dropsStopped;
    long dropsBacklog;
    long allocFailures;
    long verifiedInNapi;
    long corruptInNapi;
    // Written by the control thread or the socket threads.
    final AtomicLong restarts = new AtomicLong();
    final AtomicLong verifiedBySocket = new AtomicLong();
    final AtomicLong corruptBySocket = new AtomicLong();
    /** Device-memory frags of this queue held by applications as tokens. */
    final AtomicLong tokensOut = new AtomicLong();
    /** Device-memory frags delivered to applications as descriptors (buffer, offset, size, token). */
    final AtomicLong devmemFrags = new AtomicLong();
    volatile String lastCorruption = "";

    // Traffic pacing, NAPI thread only.
    private long pacedSince;
    private long pacedPackets;

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
        this.napi = new Thread(this, "napi-" + settings.name() + "-" + index);
        this.napi.setDaemon(true);
    }

    void startThread() {
        napi.start();
    }

    // ---- queue management, from the control thread --------------------------------------------

    /** Creates pools and fills a ring on the NAPI thread, which will own them. */
    QueueMem memAlloc(PoolFactoryAccess pools) throws QueueOperationException {
        return onNapi(() -> {
            QueueMem m = pools.create(index);
            while (!m.full()) {
                Netmem nm = m.dataPool.alloc();
                if (nm == null) {
                    int got = m.posted();
                    m.free();
                    throw new IllegalStateException("provider '" + m.dataPool.info().provider() + "' gave " + got
                            + " of " + settings.ringSize() + " RX buffers");
                }
                m.post(nm);
            }
            return m;
        });
    }

    /** Stops the queue: its NAPI loop lets go of the memory, and packets are dropped until start. */
    QueueMem stop() throws QueueOperationException {
        stopRequested = true;
        LockSupport.unpark(napi);
        long deadline = System.nanoTime() + OP_TIMEOUT_NANOS;
        for (int spins = 0; !napiStopped; spins++) {
            if (System.nanoTime() > deadline) {
                throw new QueueOperationException("queue " + id + ": NAPI did not stop within 10 s");
            }
            if (spins < 1000) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(10_000);
            }
        }
        QueueMem old = mem;
        mem = null;
        return old;
    }

    void start(QueueMem m) throws QueueOperationException {
        if (!napiStopped) {
            throw new QueueOperationException("queue " + id + " is running (expected: a stopped queue)");
        }
        String bad = m.unreachable(settings.dmaMaskBits());
        if (bad != null) {
            throw new QueueOperationException("queue " + id + ": " + bad);
        }
        mem = m;
        stopRequested = false;
        restarts.incrementAndGet();
        LockSupport.unpark(napi);
    }

    boolean running() {
        return !napiStopped;
    }

    QueueMem memory() {
        return mem;
    }

    private <T> T onNapi(Supplier<T> work) throws QueueOperationException {
        CompletableFuture<T> f = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                f.complete(work.get());
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        LockSupport.unpark(napi);
        try {
            return f.get(OP_TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new QueueOperationException("queue " + id + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new QueueOperationException("queue " + id + ": NAPI did not answer within 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QueueOperationException("queue " + id + ": interrupted");
        }
    }

    void close() throws InterruptedException {
        closing = true;
        LockSupport.unpark(napi);
        napi.join(TimeUnit.SECONDS.toMillis(10));
    }

    // ---- the NAPI loop ---------------------------------------------------------------------------

    @Override
    public void run() {
        pacedSince = System.nanoTime();
        while (!closing) {
            for (Runnable t; (t = tasks.poll()) != null;) {
                t.run();
            }
            // Packets that arrived while NAPI slept arrived on the memory the queue ran on then:
            // receive them before acknowledging a stop, so a restart drops only what arrives
            // while the queue is really stopped.
            boolean stop = stopRequested;
            if (!stop && napiStopped) {
                napiStopped = false; // started: use the new memory from this poll on
            }
            QueueMem m = napiStopped ? null : mem;
            int budget = budget();
            for (int i = 0; i < budget; i++) {
                receive(m);
            }
            if (m != null) {
                refill(m);
            }
            if (stop) {
                napiStopped = true;
            }
            if (budget == 0 && stopRequested == napiStopped) {
                LockSupport.parkNanos(nanosToNextPacket());
            }
        }
        napiStopped = true;
    }

    /** Packets the wire offers now, at most one NAPI budget. */
    private int budget() {
        if (!device.trafficOn()) {
            pacedSince = System.nanoTime();
            pacedPackets = 0;
            return 0;
        }
        long rate = settings.ratePps();
        if (rate == 0) {
            return NAPI_BUDGET;
        }
        long due = (System.nanoTime() - pacedSince) * rate / 1_000_000_000L - pacedPackets;
        int n = (int) Math.min(NAPI_BUDGET, Math.max(0, due));
        pacedPackets += n;
        if (pacedPackets > 1_000_000_000L) {
            // Keep the products small: restart the pacing window.
            pacedSince = System.nanoTime();
            pacedPackets = 0;
        }
        return n;
    }

    /**
     * How long NAPI sleeps when nothing is due: long enough for half a budget of packets to
     * arrive, at most 1 ms (interrupt coalescing), so a paced queue wakes a few hundred times a
     * second instead of once per packet.
     */
    private long nanosToNextPacket() {
        long rate = settings.ratePps();
        if (!device.trafficOn() || rate == 0) {
            return 1_000_000;
        }
        return Math.max(50_000, Math.min(1_000_000, NAPI_BUDGET / 2 * 1_000_000_000L / rate));
    }

    private void receive(QueueMem m) {
        long seq = generated++;
        if (m == null) {
            dropsStopped++;
            return;
        }
        Netmem data = m.take();
        if (data == null) {
            dropsNoBuffer++;
            return;
        }
        int size = settings.packetSizeMin() == settings.packetSizeMax() ? settings.packetSizeMin()
                : settings.packetSizeMin() + rnd.nextInt(settings.packetSizeMax() - settings.packetSizeMin() + 1);
        Netmem header = null;
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
        dmaWrite(header != null ? header : data, headerAt, data, payloadAt, seq, payloadLen);
        boolean toSocket = settings.socketFraction() > 0 && rnd.nextDouble() < settings.socketFraction();
        if (toSocket ? toSocket(m, data, payloadAt, header, headerAt) : consumeInNapi(m, data, payloadAt, header, headerAt)) {
            delivered++;
            bytes += size;
        }
    }

    /** What the NIC writes: the header into host memory, the payload into the queue's memory. */
    private void dmaWrite(Netmem header, int headerAt, Netmem data, int payloadAt, long seq, int payloadLen) {
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
        } else {
            device.deviceWrite(data, payloadAt, template, seq, payloadLen);
        }
    }

    /** The stack takes the packet in NAPI context and frees it there: direct recycling. */
    private boolean consumeInNapi(QueueMem m, Netmem data, int payloadAt, Netmem header, int headerAt) {
        String bad = device.verify(this, data, payloadAt, header, headerAt, deviceScratch);
        if (bad == null) {
            verifiedInNapi++;
        } else {
            corruptInNapi++;
            lastCorruption = bad;
        }
        m.dataPool.recycleDirect(data);
        if (header != null) {
            m.headerPool.recycleDirect(header);
        }
        return true;
    }

    /** The packet goes to a socket thread, which releases it later: ring recycling. */
    private boolean toSocket(QueueMem m, Netmem data, int payloadAt, Netmem header, int headerAt) {
        SocketQueue.Delivery d = socket.claim();
        if (d == null) {
            // The socket's backlog is full: the stack drops the packet.
            dropsBacklog++;
            m.dataPool.recycleDirect(data);
            if (header != null) {
                m.headerPool.recycleDirect(header);
            }
            return false;
        }
        d.data = data;
        d.dataPool = m.dataPool;
        d.payloadAt = payloadAt;
        d.header = header;
        d.headerPool = m.headerPool;
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

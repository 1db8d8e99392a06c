package pagepool.driver.sim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PagePoolFactory;
import pagepool.kit.driver.NapiLoop;
import pagepool.kit.driver.RxDevice;

/**
 * A simulated multi-queue NIC on the driver kit: one {@link SimQueue} per RX queue, NAPI threads
 * the queues share, socket threads that play the stack's receivers, and a traffic source. It
 * creates its pools through the {@link PagePoolFactory} and never learns which provider is behind
 * them.
 */
public final class SimDevice extends RxDevice<SimQueue, QueueMem> {

    private final SimSettings settings;
    private final PagePoolFactory pools;
    private final Arena arena = Arena.ofShared();
    private final Packet.Template template;
    private final List<NapiLoop> napis = new ArrayList<>();
    private final List<SocketReader> readers = new ArrayList<>();
    private boolean closed;

    public SimDevice(SimSettings settings, PagePoolFactory pools) {
        super(settings.name(), QueueMem.class, settings.up(), false);
        this.settings = settings;
        this.pools = pools;
        this.template = new Packet.Template(arena, settings.name().hashCode());
        SimQueue[] queues = new SimQueue[settings.rxQueues()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new SimQueue(this, i, settings, template);
        }
        queues(queues);
        int threads = settings.napiThreadCount();
        for (int t = 0; t < threads; t++) {
            List<SimQueue> mine = new ArrayList<>();
            for (int i = t; i < queues.length; i += threads) {
                mine.add(queues[i]);
            }
            napis.add(new NapiPoll(mine).loop("napi-" + settings.name() + "-" + t));
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
        napis.forEach(NapiLoop::start);
        readers.forEach(SocketReader::start);
        setCarrier(settings.traffic());
        return this;
    }

    /** A queue's new memory: its data pool, a header pool with header split, an empty ring. */
    QueueMem createMemory(int queue) {
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
        return carrier();
    }

    @Override
    public boolean headerSplit() {
        return settings.headerSplit();
    }

    /** The last corruption a queue saw, or empty. */
    public String lastCorruption(int queue) {
        return queueOrThrow(queue).lastCorruption();
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
        return Packet.verify(template, hdr, hdrAt, payload, at, q.index());
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
        closeQueues();
        napis.forEach(NapiLoop::close);
        for (SocketReader r : readers) {
            r.close();
        }
        arena.close();
    }
}

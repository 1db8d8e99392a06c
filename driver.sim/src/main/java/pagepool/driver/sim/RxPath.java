package pagepool.driver.sim;

import static pagepool.driver.sim.SimCounter.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import pagepool.api.Frag;
import pagepool.api.Netmem;
import pagepool.kit.driver.QueueCounters;

/**
 * One queue's packet path, on its NAPI thread: the wire's next packet DMA-written into a posted
 * buffer (with header split, the header into a frag of the header pool), delivered (consumed in
 * NAPI and recycled directly, or handed to a socket thread that releases it later), and the ring
 * refilled from the pool. Every packet is counted once: delivered, or dropped with the reason.
 */
final class RxPath {

    private final SimQueue queue;
    private final SimSettings settings;
    private final Packet.Template template;
    private final QueueCounters counters;
    private final Iotlb iotlb;
    private final SplittableRandom rnd;
    private final Frag headerFrag = new Frag();
    /** Pages a refill takes from the pool in one call: at most a NAPI budget's worth. */
    private final Netmem[] refill = new Netmem[64];
    /** Where the simulated GPU reads device-memory payloads to verify them. */
    private final MemorySegment deviceScratch = Arena.ofAuto().allocate(Packet.MAX_SIZE);
    /** The sequence number of the wire's next packet. */
    private long nextSeq;

    RxPath(SimQueue queue, SimSettings settings, Packet.Template template, QueueCounters counters, Iotlb iotlb) {
        this.queue = queue;
        this.settings = settings;
        this.template = template;
        this.counters = counters;
        this.iotlb = iotlb;
        this.rnd = new SplittableRandom(31L * queue.index() + settings.name().hashCode());
    }

    /**
     * Receives the wire's next packet into {@code m}.
     *
     * @param m the memory the queue runs on, or null while it is stopped
     * @param failed whether the queue failed (it drops what arrives until its next start)
     * @return false when the packet stays on the wire: its socket is full and the sender holds
     *         back (socket.backpressure), counted
     */
    boolean receive(QueueMem m, boolean failed) {
        if (m == null) {
            generate();
            counters.add(DROPS_STOPPED, 1);
            return true;
        }
        if (failed) {
            generate();
            counters.add(DROPS_FAILED, 1);
            return true;
        }
        boolean toSocket = settings.socketFraction() > 0 && rnd.nextDouble() < settings.socketFraction();
        if (toSocket && settings.socketBackpressure() && !queue.socket.hasRoom()) {
            counters.add(BACKPRESSURE, 1);
            queue.socket.producerWaiting = true;
            // Taken after all if the reader made room meanwhile (it may have missed the flag).
            if (!queue.socket.hasRoom()) {
                return false;
            }
            queue.socket.producerWaiting = false;
        }
        long seq = generate();
        Netmem data = m.take();
        if (data == null) {
            counters.add(DROPS_NO_BUFFER, 1);
            return true;
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
                    counters.add(DROPS_NO_BUFFER, 1);
                    return true;
                }
                header = headerFrag.netmem();
                headerAt = headerFrag.offset();
                payloadAt = 0;
            } else {
                headerAt = 0;
                payloadAt = Packet.HEADER_LEN;
            }
            if (!dmaWrite(m, header != null ? header : data, headerAt, data, payloadAt, seq, payloadLen)) {
                counters.add(DROPS_FAILED, 1);
                drop(m, data, header);
                return true;
            }
            Netmem d = data;
            Netmem h = header;
            data = null; // delivered from here on: the consumer gives both back
            header = null;
            if (toSocket ? toSocket(m, d, payloadAt, h, headerAt) : consumeInNapi(m, d, payloadAt, h, headerAt)) {
                counters.add(PACKETS, 1);
                counters.add(BYTES, size);
            }
            return true;
        } finally {
            if (data != null) {
                // Something failed before delivery: the packet is counted as dropped, its buffers
                // go back; neither is lost.
                counters.add(DROPS_FAILED, 1);
                drop(m, data, header);
            }
        }
    }

    /** A packet comes off the wire: counted, numbered. */
    private long generate() {
        counters.add(GENERATED, 1);
        return nextSeq++;
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
        Packet.writeHeader(header.area().memory(), Packet.pageOffset(header) + headerAt, seq, payloadLen, queue.index(),
                checksum);
        if (data.isReadable()) {
            Packet.writePayload(template, seq, data.area().memory(), Packet.pageOffset(data) + payloadAt, payloadLen);
            return true;
        }
        return m.dataPool.deviceWrite(data, payloadAt, template.bytes, template.payloadOffset(seq), payloadLen);
    }

    /** The stack takes the packet in NAPI context and frees it there: direct recycling. */
    private boolean consumeInNapi(QueueMem m, Netmem data, int payloadAt, Netmem header, int headerAt) {
        String bad;
        try {
            bad = queue.device.verify(queue, m.dataPool, data, payloadAt, header, headerAt, deviceScratch);
        } finally {
            drop(m, data, header);
        }
        if (bad == null) {
            counters.add(VERIFIED, 1);
        } else {
            queue.corrupt(bad);
        }
        return true;
    }

    /** The packet goes to a socket thread, which releases it later: ring recycling. */
    private boolean toSocket(QueueMem m, Netmem data, int payloadAt, Netmem header, int headerAt) {
        SocketQueue.Delivery d = queue.socket.claim();
        if (d == null) {
            // The socket's backlog is full: the stack drops the packet.
            counters.add(DROPS_BACKLOG, 1);
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
        queue.socket.publish();
        return true;
    }

    /**
     * Posts buffers until the ring is full, the pool has none, or {@code most} are posted, taking
     * them in bulk calls.
     */
    void refill(QueueMem m, int most) {
        int room;
        while ((room = Math.min(Math.min(m.room(), refill.length), most)) > 0) {
            most -= room;
            int n = m.dataPool.alloc(refill, room);
            for (int i = 0; i < n; i++) {
                m.post(refill[i]);
                refill[i] = null;
            }
            if (n < room) {
                counters.add(ALLOC_FAIL, 1);
                return;
            }
        }
    }
}

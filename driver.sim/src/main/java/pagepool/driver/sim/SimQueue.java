package pagepool.driver.sim;

import java.util.Map;

import pagepool.api.Netmem;
import pagepool.api.PoolParams;
import pagepool.api.queue.QueueOperationException;
import pagepool.kit.driver.QueueCounters;
import pagepool.kit.driver.RxQueue;

/**
 * One simulated RX queue: the kit's queue state machine with the simulated NIC's parts. Each
 * poll, on its NAPI thread (shared with other queues), takes the packets the wire offers now
 * ({@link Pacing}) through the queue's {@link RxPath}. Its memory is a data pool, a header pool
 * with header split, and a ring ({@link QueueMem}); the NIC refuses a ring with a buffer beyond
 * its DMA mask.
 */
final class SimQueue extends RxQueue<QueueMem> {

    private static final int NAPI_BUDGET = 64;
    /** Buffers posted before the queue runs on new memory: twice what one poll can take. */
    static final int PREFILL = 2 * NAPI_BUDGET;

    final SimDevice device;
    final SocketQueue socket;
    private final SimSettings settings;
    private final Pacing pacing;
    final Iotlb iotlb;
    private final RxPath rx;
    private volatile String lastCorruption = "";

    SimQueue(SimDevice device, int index, SimSettings settings, Packet.Template template) {
        super(device, index, new QueueCounters(SimCounter.class));
        this.device = device;
        this.settings = settings;
        // A socket backlog of twice the ring, at least 1024 packets (about 1.5 MB of 1500-byte packets).
        this.socket = new SocketQueue(this, Math.max(1024, 2 * settings.ringSize()));
        this.iotlb = new Iotlb(settings.iotlbEntries(), settings.iotlbWays());
        this.pacing = new Pacing(settings.ratePps());
        this.rx = new RxPath(this, settings, template, counters, iotlb);
    }

    // ---- the queue operations' hardware part ---------------------------------------------------------

    @Override
    protected QueueMem allocate() {
        return device.createMemory(index);
    }

    /**
     * Posts the first {@link #PREFILL} buffers; NAPI posts the rest in its next polls on the new
     * memory, at most {@link #PREFILL} a poll, as mlx5 fills its RX rings in NAPI after
     * activation. No packet can find the ring empty meanwhile: a poll receives at most a NAPI
     * budget before it refills. The provider's set-up and first allocations stay here, before the
     * queue moves; the rest of a full ring was most of a swap's time.
     */
    @Override
    protected void fill(QueueMem m) throws QueueOperationException {
        Netmem[] batch = new Netmem[NAPI_BUDGET];
        int want = Math.min(PREFILL, settings.ringSize());
        int room;
        while ((room = Math.min(want - m.posted(), batch.length)) > 0) {
            int n = m.dataPool.alloc(batch, room);
            for (int i = 0; i < n; i++) {
                m.post(batch[i]);
            }
            if (n < room) {
                throw new QueueOperationException("queue " + id + ": provider '" + m.dataPool.info().provider()
                        + "' gave " + m.posted() + " of the first " + want + " RX buffers");
            }
        }
    }

    @Override
    protected String unusable(QueueMem m) {
        return m.unreachable(settings.dmaMaskBits());
    }

    /** NAPI first receives what arrived on the old memory (unless the mode stops it first). */
    @Override
    protected void stopping(QueueMem old, boolean receiveFirst) {
        if (receiveFirst) {
            poll(old);
        }
    }

    @Override
    protected void free(QueueMem m) {
        m.free();
    }

    /** Ends the NAPI thread's sleep: a socket the queue held back for has room again. */
    void wakeNapi() {
        loop().wake();
    }

    // ---- the NAPI context, on its thread -----------------------------------------------------------------

    /** One NAPI poll of this queue: receive what the wire offers now, then refill the ring. */
    int poll() {
        return poll(mem());
    }

    private int poll(QueueMem m) {
        // A queue that was never enabled receives nothing: its wire starts with its first start.
        int budget = pacing.due(started() && device.trafficOn(), NAPI_BUDGET);
        boolean failed = failed();
        int taken = 0;
        while (taken < budget && rx.receive(m, failed)) {
            taken++;
        }
        pacing.giveBack(budget - taken); // held back by a full socket: due again at the next poll
        if (m != null && !failed()) {
            rx.refill(m, PREFILL); // a poll posts at most this: one after a new ring's prefill stays short
        }
        counters.publish();
        return taken;
    }

    long nanosToNextPacket() {
        return pacing.nanosToNext(started() && device.trafficOn(), NAPI_BUDGET);
    }

    /** NAPI found a packet corrupt. */
    void corrupt(String what) {
        counters.add(SimCounter.CORRUPT, 1);
        lastCorruption = what;
    }

    /** A socket thread found a packet corrupt. */
    void corruptBySocket(String what) {
        counters.addShared(SimCounter.CORRUPT, 1);
        lastCorruption = what;
    }

    String lastCorruption() {
        return lastCorruption;
    }

    @Override
    protected void moreStats(Map<String, Long> m) {
        m.put("drops", m.get("drops-no-buffer") + m.get("drops-stopped") + m.get("drops-backlog")
                + m.get("drops-failed"));
        QueueMem mine = published();
        m.put("rx-posted", mine == null ? 0L : mine.posted()); // a gauge: NAPI writes it, read as it stands
        m.put("iotlb-lookups", iotlb.lookups);
        m.put("iotlb-misses", iotlb.misses);
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

package pagepool.driver.xdp;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.queue.QueueOperationException;
import pagepool.kit.driver.DatagramDelivery;
import pagepool.kit.driver.NapiLoop;
import pagepool.kit.driver.QueueCounters;
import pagepool.kit.driver.RxQueue;
import pagepool.kit.linux.Libc;
import pagepool.kit.linux.WakeFd;

/**
 * One RX queue of an interface, as an AF_XDP socket and the thread that receives from it (its
 * NAPI context) on the kit's queue state machine. The kernel allows one socket per queue, so a
 * new memory's socket binds only once the old one is gone: a stop or swap takes the queue out of
 * the XSKMAP (frames then count as {@code unbound} drops in the program's map), waits a grace
 * period so no frame is still on its way to the old socket, receives what the old RX ring holds,
 * closes it, binds the new one and puts it in the map. Nothing arriving meanwhile is lost
 * uncounted.
 */
final class XdpQueue extends RxQueue<XdpMem> implements NapiLoop.Poll {

    private static final int WAIT_MILLIS = 50;
    private static final long BIND_DEADLINE_NANOS = 2_000_000_000L;
    private static final int BATCH = 256;
    /** Refill when at least this many fill-ring entries are free: in bulk, as drivers refill. */
    private static final int REFILL_AT = 64;
    private static final ValueLayout.OfShort BE_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN).withByteAlignment(1);
    private static final ValueLayout.OfInt BE_INT = JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN).withByteAlignment(1);

    private final XdpDevice device;
    private final XdpSettings settings;
    private final NapiLoop loop;
    /** Set up on the queue's thread, which alone delivers. */
    private DatagramDelivery delivery;
    private final Netmem[] batch = new Netmem[BATCH];
    /** Kernel statistics of the queue's closed sockets, and scratch; {@link #stats} reads them under the lock. */
    private final long[] closedStats = new long[Xsk.STATISTICS.length];
    private final long[] scratch = new long[Xsk.STATISTICS.length];
    /** Frames that were in an RX ring when a stop did not let NAPI receive them (reset mode napi-stopped-first). */
    private volatile long stopDrops;
    /** When the queue last left the XSKMAP, and how long it stayed out (the last time, the longest). */
    private long unmappedAt;
    private volatile long lastGapNanos;
    private volatile long maxGapNanos;
    // ---- owned by the queue's thread ----------------------------------------------------------------
    private Arena arena;
    private Libc libc;
    private MemorySegment pollfds;
    private int eventfd = -1;
    private WakeFd wakeFd;

    XdpQueue(XdpDevice device, int index, XdpSettings settings) {
        super(device, index, new QueueCounters(XdpCounter.class));
        this.device = device;
        this.settings = settings;
        this.loop = new NapiLoop("napi-" + device.name() + "-" + index, this);
        runOn(loop);
    }

    // ---- the kit's hooks --------------------------------------------------------------------------------

    @Override
    protected XdpMem allocate() {
        return new XdpMem(index, device.createPool(index));
    }

    @Override
    protected void fill(XdpMem m) throws QueueOperationException {
        m.fill(id.toString(), settings.umemFrames(), settings.ringSize());
    }

    @Override
    protected void stopping(XdpMem old, boolean receiveFirst) throws QueueOperationException {
        unmappedAt = System.nanoTime();
        device.unmapQueue(index); // from here frames for the queue are dropped and counted as unbound
        if (old.closed) {
            return; // a swap that failed half-way closed it already
        }
        XdpDevice.synchronizeRcu(libc); // ... and none is still on its way into the old RX ring
        if (receiveFirst) {
            while (receive(old) > 0) {
                // what arrived before the map let go of the socket
            }
        } else {
            int n = old.xsk.rx.ready();
            for (int i = 0; i < n; i++) {
                int f = (int) (old.xsk.rx.address(i) >>> 12);
                Netmem nm = f < old.byFrame.length ? old.byFrame[f] : null;
                if (nm != null) {
                    old.byFrame[f] = null;
                    old.posted--;
                    old.pool.recycleDirect(nm);
                }
            }
            old.xsk.rx.release(n);
            stopDrops += n;
        }
        synchronized (closedStats) {
            old.closeSocket(closedStats, scratch);
        }
        counters.publish();
    }

    @Override
    protected void starting(XdpMem m) throws QueueOperationException {
        try {
            if (m.closed) {
                m.reopen(settings.ringSize()); // restarted after a stop: the UMEM and its pages stay
            }
            bind(m);
        } catch (Libc.SysException e) {
            throw new QueueOperationException("queue " + id + ": bind to " + settings.ifname() + " queue " + index + ": "
                    + Libc.name(e.errno()) + (e.errno() == Libc.EBUSY ? " (another AF_XDP socket has the queue)" : ""), e);
        }
        device.mapQueue(index, m.xsk.fd);
        if (unmappedAt != 0) {
            long gap = System.nanoTime() - unmappedAt;
            lastGapNanos = gap;
            maxGapNanos = Math.max(maxGapNanos, gap);
            unmappedAt = 0;
        }
    }

    /**
     * Binds the socket. The kernel lets go of a closed socket's hold on the queue in a work item
     * after the close returns, so a bind right after the old socket closed may find the queue busy
     * for a moment: it is tried again until {@link #BIND_DEADLINE_NANOS}.
     */
    private void bind(XdpMem m) {
        long deadline = System.nanoTime() + BIND_DEADLINE_NANOS;
        long pause = 20_000;
        while (true) {
            try {
                m.xsk.bind(m.arena, device.ifindex(), index, device.bindFlags());
                return;
            } catch (Libc.SysException e) {
                if (e.errno() != Libc.EBUSY || System.nanoTime() > deadline) {
                    throw e;
                }
                counters.add(XdpCounter.BIND_RETRIES, 1);
                LockSupport.parkNanos(pause);
                pause = Math.min(pause * 2, 1_000_000);
            }
        }
    }

    /** The kernel allows one socket per queue: the old one goes before the new one binds (see the class comment). */
    @Override
    protected void swapping(XdpMem old, XdpMem m) throws QueueOperationException {
        stopping(old, true);
        try {
            starting(m);
        } catch (QueueOperationException | RuntimeException e) {
            failed(e); // the old socket is gone: the queue receives nothing until it is restarted
            throw e;
        }
    }

    @Override
    protected void free(XdpMem m) {
        m.free();
    }

    /** The kernel's statistics of every socket the queue had, the live one included. */
    private long[] kernelStatistics() {
        long[] k = new long[Xsk.STATISTICS.length];
        synchronized (closedStats) {
            System.arraycopy(closedStats, 0, k, 0, k.length);
        }
        XdpMem mem = published();
        if (mem != null) {
            mem.addStatistics(k, new long[k.length]);
        }
        return k;
    }

    /** Frames the queue's sockets could not take (the interface counts them as its drops too). */
    long socketDrops() {
        long[] k = kernelStatistics();
        return k[Xsk.STAT_RX_DROPPED] + k[Xsk.STAT_RX_RING_FULL] + k[Xsk.STAT_RX_INVALID];
    }

    @Override
    protected void moreStats(Map<String, Long> m) {
        long[] k = kernelStatistics();
        XdpMem mem = published();
        long unbound = device.unboundDrops(index);
        m.put("drops", k[Xsk.STAT_RX_DROPPED] + k[Xsk.STAT_RX_RING_FULL] + k[Xsk.STAT_RX_INVALID] + unbound + stopDrops);
        m.put("xdp-rx-dropped", k[Xsk.STAT_RX_DROPPED]);
        m.put("xdp-rx-ring-full", k[Xsk.STAT_RX_RING_FULL]);
        m.put("xdp-fill-ring-empty", k[Xsk.STAT_FILL_EMPTY]);
        m.put("xdp-rx-invalid-descs", k[Xsk.STAT_RX_INVALID]);
        m.put("unbound-drops", unbound);
        m.put("stop-drops", stopDrops);
        m.put("gap-usecs", lastGapNanos / 1000);
        m.put("max-gap-usecs", maxGapNanos / 1000);
        m.put("posted", mem == null ? 0L : (long) mem.posted);
        m.put("zero-copy", mem != null && mem.xsk != null && mem.xsk.zeroCopy() ? 1L : 0L);
    }

    // ---- the thread ------------------------------------------------------------------------------------

    @Override
    public void setUp() {
        arena = Arena.ofConfined();
        libc = new Libc(arena);
        delivery = new DatagramDelivery(id, counters, device.consumerSlot());
        eventfd = libc.eventfd();
        wakeFd = device.wakeFd(eventfd);
        loop.wakeWith(wakeFd::signal);
        pollfds = arena.allocate(2L * Libc.POLLFD, 8);
        pollfds.set(JAVA_INT, 0, -1);
        pollfds.set(JAVA_SHORT, 4, (short) Libc.POLLIN);
        pollfds.set(JAVA_INT, Libc.POLLFD, eventfd);
        pollfds.set(JAVA_SHORT, Libc.POLLFD + 4, (short) Libc.POLLIN);
    }

    @Override
    public void poll() {
        XdpMem m = mem();
        if (m != null && !failed() && !m.closed) {
            if (receive(m) > 0) {
                return;
            }
            if (m.xsk.fill.needsWakeup()) {
                m.libc.kickReceive(m.xsk.fd);
                counters.add(XdpCounter.WAKEUPS, 1);
                counters.publish();
            }
        }
        if (!loop.idle()) {
            return;
        }
        pollfds.set(JAVA_INT, 0, m == null || m.closed ? -1 : m.xsk.fd); // a negative fd is ignored
        libc.poll(pollfds, 2, WAIT_MILLIS);
        libc.drain(eventfd);
    }

    /** Receives one batch from the RX ring and refills; returns how many frames it took. */
    private int receive(XdpMem m) {
        XskRing rx = m.xsk.rx;
        int n = Math.min(rx.ready(), BATCH);
        if (n > 0) {
            PagePool pool = m.pool;
            for (int i = 0; i < n; i++) {
                long addr = rx.address(i);
                int f = (int) (addr >>> 12);
                Netmem nm = f < m.byFrame.length ? m.byFrame[f] : null;
                if (nm == null) {
                    counters.add(XdpCounter.ERRORS, 1); // a frame we never posted: the kernel's word against ours
                    continue;
                }
                m.byFrame[f] = null;
                m.posted--;
                deliver(m, nm, addr & (XdpSettings.FRAME - 1), (long) f * XdpSettings.FRAME, rx.length(i));
                pool.recycleDirect(nm);
            }
            rx.release(n);
            counters.add(XdpCounter.POLLS, 1);
        }
        refill(m);
        counters.publish();
        return n;
    }

    /** Posts pages of the pool on the fill ring, in bulk; a page outside the UMEM goes back unposted. */
    private void refill(XdpMem m) {
        XskRing fill = m.xsk.fill;
        int room = fill.free();
        if (room < REFILL_AT && m.posted > 0) {
            return;
        }
        int want = Math.min(room, BATCH);
        int got = m.pool.alloc(batch, want);
        if (got < want) {
            counters.add(XdpCounter.ALLOC_FAIL, 1);
        }
        int k = 0;
        for (int i = 0; i < got; i++) {
            Netmem nm = batch[i];
            batch[i] = null;
            int f = m.frame(nm);
            if (f < 0 || m.byFrame[f] != null) {
                counters.add(XdpCounter.OUTSIDE_UMEM, 1);
                m.pool.recycleDirect(nm);
                continue;
            }
            m.byFrame[f] = nm;
            fill.putAddress(k++, (long) f * XdpSettings.FRAME);
        }
        fill.submit(k);
        m.posted += k;
    }

    /**
     * Parses the frame at {@code at} of the UMEM (Ethernet, IPv4 or IPv6, UDP: what the program
     * steered) and hands its payload to the consumer, or verifies it when there is none.
     *
     * @param offset where the frame starts in its page (copy mode puts it after the headroom)
     */
    private void deliver(XdpMem m, Netmem nm, long offset, long page, int length) {
        MemorySegment umem = m.umem;
        long at = page + offset;
        if (length < 14 + 20 + 8 || offset + length > XdpSettings.FRAME) {
            counters.add(XdpCounter.MALFORMED, 1);
            return;
        }
        int type = umem.get(BE_SHORT, at + 12) & 0xffff;
        long udp;
        int source = 0;
        if (type == 0x0800) {
            int ihl = (umem.get(JAVA_BYTE, at + 14) & 0x0f) * 4;
            if (ihl < 20) {
                counters.add(XdpCounter.MALFORMED, 1);
                return;
            }
            source = umem.get(BE_INT, at + 26);
            udp = 14 + ihl;
        } else if (type == 0x86dd) {
            udp = 14 + 40;
        } else {
            counters.add(XdpCounter.MALFORMED, 1);
            return;
        }
        int udpLength = udp + 8 <= length ? umem.get(BE_SHORT, at + udp + 4) & 0xffff : 0;
        if (udpLength < 8 || udp + udpLength > length) {
            counters.add(XdpCounter.MALFORMED, 1);
            return;
        }
        int port = umem.get(BE_SHORT, at + udp) & 0xffff;
        int payload = (int) (offset + udp + 8);
        int len = udpLength - 8;
        delivery.deliver(m.pool, nm, umem, page, payload, len, source, port);
    }

    @Override
    public void tearDown() {
        try {
            XdpMem m = mem();
            if (m != null) {
                device.unmapQueue(index);
                synchronized (closedStats) {
                    m.closeSocket(closedStats, scratch);
                }
            }
        } finally {
            if (wakeFd != null) {
                loop.wakeWith(null);
                wakeFd.close();
            }
            eventfd = -1;
            if (arena != null) {
                arena.close();
            }
        }
    }
}

package pagepool.driver.sim;

import java.util.List;
import java.util.concurrent.locks.LockSupport;

import pagepool.api.Netmem;
import pagepool.api.PagePool;

/**
 * A receiver in the stack: takes packets from its queues' sockets, verifies each, holds its pages
 * for a while as an application reading slowly would, and releases them from its own thread.
 * It serves every queue of its device and survives whatever it meets: an unexpected error while
 * handling a packet is counted against that packet's queue, which is marked failed, and the
 * reader goes on with the next packet; every page still goes back to its pool.
 */
final class SocketReader implements Runnable {

    private static final System.Logger LOG = System.getLogger(SocketReader.class.getName());

    private final List<SocketQueue> sockets;
    private final long holdNanos;
    private final Thread thread;
    private volatile boolean closing;

    // Held pages, oldest first: a FIFO of parallel arrays, so holding allocates nothing.
    private final Netmem[] heldData;
    private final PagePool[] heldDataPool;
    private final int[] heldDataGen;
    private final Netmem[] heldHeader;
    private final PagePool[] heldHeaderPool;
    private final int[] heldHeaderGen;
    private final long[] heldUntil;
    private final long[] heldToken;
    private int heldHead;
    private int heldCount;
    // Device-memory frags are handed to the application as tokens, and come back in batches.
    private final TokenTable tokens;
    private final long[] returning = new long[TokenTable.MAX_PER_CALL];
    private final DevmemFrag frag = new DevmemFrag();
    private int returningCount;
    /** Pages going back to their pools, a batch at a time. */
    private final ReleaseBatches releases = new ReleaseBatches();
    private final java.lang.foreign.MemorySegment deviceScratch =
            java.lang.foreign.Arena.ofAuto().allocate(Packet.MAX_SIZE);

    SocketReader(String name, List<SocketQueue> sockets, long holdMicros) {
        this.sockets = List.copyOf(sockets);
        this.holdNanos = holdMicros * 1000;
        // Room for a few rings' worth of pages per socket; beyond that the oldest is released early.
        // At most as many as the token table can name (2^20), however many queues share the reader.
        int capacity = Integer.highestOneBit((int) Math.min(4096L * Math.max(1, sockets.size()),
                1L << TokenTable.SLOT_BITS));
        heldData = new Netmem[capacity];
        heldDataPool = new PagePool[capacity];
        heldDataGen = new int[capacity];
        heldHeader = new Netmem[capacity];
        heldHeaderPool = new PagePool[capacity];
        heldHeaderGen = new int[capacity];
        heldUntil = new long[capacity];
        heldToken = new long[capacity];
        tokens = new TokenTable(capacity);
        thread = new Thread(this, name);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    @Override
    public void run() {
        while (!closing) {
            boolean busy = false;
            try {
                for (SocketQueue s : sockets) {
                    busy |= drain(s, 64);
                }
                releaseExpired(System.nanoTime());
            } catch (Throwable t) {
                // drain and release handle their own packets' errors; this is a bug of the reader.
                LOG.log(System.Logger.Level.ERROR, "socket reader " + thread.getName() + " met an error", t);
            }
            if (!busy) {
                // Coalesce wake-ups: sockets hold hundreds of packets, NAPI needs the CPU more.
                LockSupport.parkNanos(200_000);
            }
        }
        // Closing: the NAPI loops are stopped; take what is left and give everything back.
        for (SocketQueue s : sockets) {
            while (drain(s, Integer.MAX_VALUE)) {
                // keep going
            }
        }
        releaseExpired(Long.MAX_VALUE);
        tokens.close();
    }

    private boolean drain(SocketQueue s, int max) {
        boolean any = false;
        SocketQueue.Delivery d;
        for (int n = 0; n < max && (d = s.peek()) != null; n++) {
            any = true;
            long token = -1;
            try {
                String bad;
                if (d.data.isReadable()) {
                    bad = s.queue.device.verify(s.queue, d.dataPool, d.data, d.payloadAt, d.header, d.headerAt,
                            deviceScratch);
                } else {
                    token = tokens.give(d.data, d.dataPool, d.dataGen, s.queue);
                    bad = receiveDevmem(s.queue, d, token);
                }
                if (bad == null) {
                    s.queue.counters().addShared(SimCounter.VERIFIED, 1);
                } else {
                    s.queue.corruptBySocket(bad);
                }
            } catch (Throwable t) {
                s.queue.counters().addShared(SimCounter.ERRORS, 1);
                s.queue.corruptBySocket("socket: " + t);
                LOG.log(System.Logger.Level.WARNING, "socket of " + s.queue.id() + " failed on a packet", t);
            }
            // Held (and later released) whatever happened above: no page is lost.
            hold(d, token);
            d.clear();
            s.consumed();
            s.windowUpdate();
        }
        return any;
    }

    /**
     * The application gets a frag of device memory as a descriptor (buffer, offset, size, token)
     * and has the device that owns the buffer (the simulated GPU) check the payload there.
     */
    private String receiveDevmem(SimQueue queue, SocketQueue.Delivery d, long token) {
        java.lang.foreign.MemorySegment hdr = d.header.area().memory();
        long hdrAt = Packet.pageOffset(d.header) + d.headerAt;
        int len = hdr.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, hdrAt + Packet.LEN);
        frag.set(d.data.area().bufferId(), (long) d.data.index() * d.data.size() + d.payloadAt, len, token);
        if (frag.size < 0 || d.payloadAt + frag.size > d.data.size()) {
            return "bad length in " + frag;
        }
        if (!d.dataPool.deviceRead(d.data, d.payloadAt, deviceScratch, 0, frag.size)) {
            return "device memory failed while reading " + frag;
        }
        queue.counters().addShared(SimCounter.DEVMEM_FRAGS, 1);
        return Packet.verify(queue.device.template(), hdr, hdrAt, deviceScratch, 0, queue.index());
    }

    /** Holds the packet's pages: a device-memory payload by its token (-1: none, or the table was full). */
    private void hold(SocketQueue.Delivery d, long token) {
        if (heldCount == heldData.length) {
            releaseOldest();
        }
        int i = (heldHead + heldCount++) & (heldData.length - 1);
        heldToken[i] = token;
        heldData[i] = token == -1 ? d.data : null;
        heldDataPool[i] = d.dataPool;
        heldDataGen[i] = d.dataGen;
        heldHeader[i] = d.header;
        heldHeaderPool[i] = d.headerPool;
        heldHeaderGen[i] = d.headerGen;
        heldUntil[i] = holdNanos == 0 ? 0 : System.nanoTime() + holdNanos;
    }

    private void releaseExpired(long now) {
        while (heldCount > 0 && heldUntil[heldHead] <= now) {
            releaseOldest();
        }
        releases.flush();
        flushTokens();
    }

    /** The application gives its tokens back, at most 128 per call. */
    private void flushTokens() {
        if (returningCount > 0) {
            int n = returningCount;
            returningCount = 0;
            tokens.dontneed(returning, n);
        }
    }

    /** Takes the oldest held packet off the FIFO first, then gives its pages back, so an error cannot repeat. */
    private void releaseOldest() {
        int i = heldHead;
        long token = heldToken[i];
        Netmem data = heldData[i];
        PagePool dataPool = heldDataPool[i];
        int dataGen = heldDataGen[i];
        Netmem header = heldHeader[i];
        PagePool headerPool = heldHeaderPool[i];
        int headerGen = heldHeaderGen[i];
        heldData[i] = null;
        heldDataPool[i] = null;
        heldHeader[i] = null;
        heldHeaderPool[i] = null;
        heldHead = (heldHead + 1) & (heldData.length - 1);
        heldCount--;
        if (token != -1) {
            returning[returningCount++] = token;
            if (returningCount == returning.length) {
                flushTokens();
            }
        } else {
            releases.add(dataPool, data, dataGen);
        }
        if (header != null) {
            releases.add(headerPool, header, headerGen);
        }
    }

    void close() {
        closing = true;
        LockSupport.unpark(thread);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

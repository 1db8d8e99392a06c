package pagepool.driver.sim;

import java.util.List;
import java.util.concurrent.locks.LockSupport;

import pagepool.api.Netmem;
import pagepool.api.PagePool;

/**
 * A receiver in the stack: takes packets from its queues' sockets, verifies each, holds its pages
 * for a while as an application reading slowly would, and releases them from its own thread.
 */
final class SocketReader implements Runnable {

    private final List<SocketQueue> sockets;
    private final long holdNanos;
    private final Thread thread;
    private volatile boolean closing;

    // Held pages, oldest first: a FIFO of parallel arrays, so holding allocates nothing.
    private final Netmem[] heldData;
    private final PagePool[] heldDataPool;
    private final Netmem[] heldHeader;
    private final PagePool[] heldHeaderPool;
    private final long[] heldUntil;
    private final long[] heldToken;
    private int heldHead;
    private int heldCount;
    // Device-memory frags are handed to the application as tokens, and come back in batches.
    private final TokenTable tokens;
    private final long[] returning = new long[TokenTable.MAX_PER_CALL];
    private final DevmemFrag frag = new DevmemFrag();
    private int returningCount;
    private final java.lang.foreign.MemorySegment deviceScratch =
            java.lang.foreign.Arena.ofAuto().allocate(Packet.MAX_SIZE);

    SocketReader(int id, String name, List<SocketQueue> sockets, long holdMicros) {
        this.sockets = List.copyOf(sockets);
        this.holdNanos = holdMicros * 1000;
        // Room for a few rings' worth of pages per socket; beyond that the oldest is released early.
        int capacity = Integer.highestOneBit(4096 * Math.max(1, sockets.size()));
        heldData = new Netmem[capacity];
        heldDataPool = new PagePool[capacity];
        heldHeader = new Netmem[capacity];
        heldHeaderPool = new PagePool[capacity];
        heldUntil = new long[capacity];
        heldToken = new long[capacity];
        tokens = new TokenTable(id, capacity);
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
            for (SocketQueue s : sockets) {
                busy |= drain(s, 64);
            }
            releaseExpired(System.nanoTime());
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
            String bad;
            long token = -1;
            if (d.data.isReadable()) {
                bad = s.queue.device.verify(s.queue, d.data, d.payloadAt, d.header, d.headerAt, deviceScratch);
            } else {
                token = tokens.give(d.data, d.dataPool, s.queue);
                bad = receiveDevmem(s.queue, d, token);
            }
            if (bad == null) {
                s.queue.verifiedBySocket.incrementAndGet();
            } else {
                s.queue.corruptBySocket.incrementAndGet();
                s.queue.lastCorruption = bad;
            }
            hold(d, token);
            d.clear();
            s.consumed();
        }
        return any;
    }

    /**
     * The application gets a frag of device memory as a descriptor (buffer, offset, size, token)
     * and has the device that owns the buffer (the simulated GPU) check the payload there.
     */
    private String receiveDevmem(SimQueue queue, SocketQueue.Delivery d, long token) {
        java.lang.foreign.MemorySegment hdr = d.header.segment();
        int len = hdr.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, d.headerAt + Packet.LEN);
        pagepool.api.DeviceMemory gpu = d.data.area().deviceMemory();
        frag.set(gpu.id(), (long) d.data.index() * d.data.size() + d.payloadAt, len, token);
        if (frag.size < 0 || frag.size > deviceScratch.byteSize()) {
            return "bad length in " + frag;
        }
        gpu.read(frag.offset, deviceScratch, 0, frag.size);
        queue.devmemFrags.incrementAndGet();
        return Packet.verify(queue.device.template(), hdr, d.headerAt, deviceScratch, 0, queue.index);
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
        heldHeader[i] = d.header;
        heldHeaderPool[i] = d.headerPool;
        heldUntil[i] = holdNanos == 0 ? 0 : System.nanoTime() + holdNanos;
    }

    private void releaseExpired(long now) {
        while (heldCount > 0 && heldUntil[heldHead] <= now) {
            releaseOldest();
        }
        flushTokens();
    }

    /** The application gives its tokens back, at most 128 per call. */
    private void flushTokens() {
        if (returningCount > 0) {
            tokens.dontneed(returning, returningCount);
            returningCount = 0;
        }
    }

    private void releaseOldest() {
        int i = heldHead;
        if (heldToken[i] != -1) {
            returning[returningCount++] = heldToken[i];
            if (returningCount == returning.length) {
                flushTokens();
            }
        } else {
            heldDataPool[i].release(heldData[i]);
        }
        if (heldHeader[i] != null) {
            heldHeaderPool[i].release(heldHeader[i]);
        }
        heldData[i] = null;
        heldDataPool[i] = null;
        heldHeader[i] = null;
        heldHeaderPool[i] = null;
        heldHead = (heldHead + 1) & (heldData.length - 1);
        heldCount--;
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

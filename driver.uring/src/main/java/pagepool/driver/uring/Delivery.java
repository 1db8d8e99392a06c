package pagepool.driver.uring;

import java.lang.foreign.MemorySegment;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.QueueId;
import pagepool.api.datagram.DatagramConsumer;
import pagepool.kit.driver.QueueCounters;
import pagepool.kit.traffic.Traffic;
import pagepool.kit.driver.DatagramView;

/**
 * What both receive paths do with a datagram in a page: hand it to the device's consumer, or
 * verify it when there is none, counting either way; and the check that a page the kernel is to
 * write into is host memory this process can address.
 */
final class Delivery {

    private final UringDevice device;
    private final QueueCounters counters;
    private final DatagramView view;
    private MemoryArea checkedArea;

    Delivery(UringDevice device, QueueId queue, QueueCounters counters) {
        this.device = device;
        this.counters = counters;
        this.view = new DatagramView(queue);
    }

    /**
     * Hands a datagram to the device's consumer, or verifies it when there is none. The page's
     * recycling is the caller's: one buffer may carry several datagrams.
     */
    void deliver(UringMem m, Netmem nm, MemorySegment area, long page, int offset, int length, int address, int port) {
        DatagramConsumer c = device.consumer();
        if (c != null) {
            view.set(m.pool, nm, area, page, offset, length, address, port);
            try {
                c.receive(view);
                counters.add(UringCounter.DELIVERED, 1);
            } catch (Throwable t) {
                counters.add(UringCounter.CONSUMER_ERRORS, 1);
                device.consumerFailed(c, t);
            }
            if (view.clear()) {
                counters.add(UringCounter.KEPT, 1);
            }
        } else {
            int v = Traffic.verify(area, page + offset, length);
            counters.add(v == Traffic.VERIFIED ? UringCounter.VERIFIED
                    : v == Traffic.CORRUPT ? UringCounter.CORRUPT : UringCounter.UNVERIFIABLE, 1);
        }
        // Counted last: a reader that sees the datagram in packets sees what became of it too.
        counters.add(UringCounter.PACKETS, 1);
        counters.add(UringCounter.BYTES, length);
    }

    /**
     * Takes up to {@code want} pages of the memory's pool into {@code batch} for the kernel to
     * write into; each must be host memory this process can address. A page that is not fails
     * the call, and every page taken goes back: none is lost. The queue's thread: an area once
     * checked is not checked again.
     */
    int takePages(UringMem m, Netmem[] batch, int want) {
        return take(m, batch, want, this);
    }

    /** As {@link #takePages}, for a ring filled on another thread than the queue's: every page checked. */
    static int takeFreshPages(UringMem m, Netmem[] batch, int want) {
        return take(m, batch, want, null);
    }

    private static int take(UringMem m, Netmem[] batch, int want, Delivery checked) {
        int n = m.pool.alloc(batch, want);
        try {
            for (int i = 0; i < n; i++) {
                MemoryArea a = batch[i].area();
                if (checked == null || a != checked.checkedArea) {
                    check(batch[i]);
                    if (checked != null) {
                        checked.checkedArea = a;
                    }
                }
            }
        } catch (RuntimeException e) {
            for (int i = 0; i < n; i++) {
                m.pool.release(batch[i]);
                batch[i] = null;
            }
            throw e;
        }
        return n;
    }

    private static void check(Netmem nm) {
        MemoryArea a = nm.area();
        if (!a.isReadable() || !a.memory().isNative()) {
            throw new IllegalStateException("provider '" + a.provider() + "' gave " + nm + " (expected: host memory"
                    + " the kernel can write a datagram into)");
        }
    }
}

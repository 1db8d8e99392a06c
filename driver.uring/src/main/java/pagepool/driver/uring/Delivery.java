package pagepool.driver.uring;

import java.lang.foreign.MemorySegment;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.QueueId;
import pagepool.kit.driver.DatagramDelivery;
import pagepool.kit.driver.QueueCounters;

/**
 * What both receive paths do with a datagram in a page (the kit's {@link DatagramDelivery}: the
 * device's consumer, or verification), and the check that a page the kernel is to write into is
 * host memory this process can address.
 */
final class Delivery {

    private final DatagramDelivery delivery;
    private MemoryArea checkedArea;

    Delivery(UringDevice device, QueueId queue, QueueCounters counters) {
        this.delivery = new DatagramDelivery(queue, counters, device.consumerSlot());
    }

    /**
     * Hands a datagram to the device's consumer, or verifies it when there is none. The page's
     * recycling is the caller's: one buffer may carry several datagrams.
     */
    void deliver(UringMem m, Netmem nm, MemorySegment area, long page, int offset, int length, int address, int port) {
        delivery.deliver(m.pool, nm, area, page, offset, length, address, port);
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

package pagepool.driver.sim;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.queue.QueueMemory;

/**
 * One queue's memory: its data pool, its header pool when the device splits headers, and the RX
 * ring of posted buffers (NAPI-owned while the queue runs on it).
 */
final class QueueMem implements QueueMemory {

    final int queue;
    final PagePool dataPool;
    final PagePool headerPool;
    private final Netmem[] ring;
    private final int mask;
    private int head;
    private int count;

    QueueMem(int queue, PagePool dataPool, PagePool headerPool, int ringSize) {
        this.queue = queue;
        this.dataPool = dataPool;
        this.headerPool = headerPool;
        this.ring = new Netmem[ringSize];
        this.mask = ringSize - 1;
    }

    @Override
    public int queue() {
        return queue;
    }

    @Override
    public PagePool pool() {
        return dataPool;
    }

    int posted() {
        return count;
    }

    boolean full() {
        return count == ring.length;
    }

    /** Free descriptors in the ring. */
    int room() {
        return ring.length - count;
    }

    /** Posts a buffer for the NIC to fill. */
    void post(Netmem nm) {
        ring[(head + count++) & mask] = nm;
    }

    /** The next posted buffer, or null when the ring is empty. */
    Netmem take() {
        if (count == 0) {
            return null;
        }
        Netmem nm = ring[head];
        ring[head] = null;
        head = (head + 1) & mask;
        count--;
        return nm;
    }

    /** Gives a just-taken buffer back to the front of the ring. */
    void untake(Netmem nm) {
        head = (head - 1) & mask;
        ring[head] = nm;
        count++;
    }

    /** Checks every posted buffer against the NIC's DMA mask; null when all are reachable. */
    String unreachable(int dmaMaskBits) {
        if (dmaMaskBits >= 64) {
            return null;
        }
        long limit = 1L << dmaMaskBits;
        for (int i = 0; i < count; i++) {
            Netmem nm = ring[(head + i) & mask];
            long end = nm.dmaAddress() + nm.size();
            if (nm.dmaAddress() < 0 || end > limit || end < 0) {
                return "buffer at DMA address 0x" + Long.toHexString(nm.dmaAddress()) + " is beyond the NIC's "
                        + dmaMaskBits + "-bit DMA mask";
            }
        }
        return null;
    }

    /** Gives every posted buffer back and closes the pools (they detach if pages are still out). */
    void free() {
        for (Netmem nm; (nm = take()) != null;) {
            dataPool.release(nm);
        }
        dataPool.close();
        if (headerPool != null) {
            headerPool.close();
        }
    }
}

package pagepool.driver.uring;

import pagepool.api.Netmem;
import pagepool.api.PagePool;

/**
 * The io_uring path's memory: a provided-buffer ring whose group id is the memory's id, each
 * page under a buffer id, and whether the kernel knows the ring and still receives into it.
 */
final class RingMem extends UringMem {

    /** Unique among the queue's memories: the buffer group id of its ring. */
    final int group;
    final BufferRing ring;
    /** The page posted under each buffer id, or null. */
    final Netmem[] byBid;
    private final int[] freeBids;
    private int freeCount;
    private int posted;
    /** Whether the kernel knows the ring; whether the multishot receive on it has ended. */
    boolean registered;
    boolean receiveEnded = true;

    RingMem(int queue, int group, PagePool pool, int entries) {
        super(queue, pool);
        this.group = group;
        this.ring = new BufferRing(arena, entries, group);
        this.byBid = new Netmem[entries];
        this.freeBids = new int[entries];
        for (int i = 0; i < entries; i++) {
            freeBids[i] = entries - 1 - i;
        }
        this.freeCount = entries;
    }

    /** Posts a page under a free buffer id (publish the ring afterwards). */
    void post(Netmem nm) {
        if (freeCount == 0) {
            throw new IllegalStateException("buffer ring of group " + group + " is full (" + byBid.length + " posted)");
        }
        int bid = freeBids[--freeCount];
        byBid[bid] = nm;
        ring.add(address(nm), pageSize, bid);
        posted++;
    }

    /** The page the kernel filled under {@code bid}; the id is free again. */
    Netmem take(int bid) {
        Netmem nm = bid < byBid.length ? byBid[bid] : null;
        if (nm == null) {
            throw new IllegalStateException("buffer id " + bid + " of group " + group + " has no page posted");
        }
        byBid[bid] = null;
        freeBids[freeCount++] = bid;
        posted--;
        return nm;
    }

    int room() {
        return ring.entries() - posted;
    }

    @Override
    int posted() {
        return posted;
    }

    @Override
    void releasePosted() {
        for (int bid = 0; bid < byBid.length; bid++) {
            if (byBid[bid] != null) {
                pool.release(byBid[bid]);
                byBid[bid] = null;
            }
        }
        posted = 0;
    }

    @Override
    public String toString() {
        return "buffer group " + group;
    }
}

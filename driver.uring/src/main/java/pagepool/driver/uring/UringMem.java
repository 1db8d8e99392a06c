package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.queue.QueueMemory;

/**
 * One queue's RX memory: its page pool and the pages posted to the kernel. With io_uring they sit
 * in a provided-buffer ring, each under a buffer id; with recvmmsg, in the slots of the next call's
 * {@code struct mmsghdr} array. Owned by the queue's thread.
 */
final class UringMem implements QueueMemory {

    /** What a recvmmsg slot takes: the sender's address, then the {@code mmsghdr} and its iovec. */
    private static final int MMSGHDR = 64;
    private static final int IOVEC = 16;

    final int queue;
    /** Unique per queue; also the buffer group id of its ring. */
    final int id;
    final PagePool pool;
    final int pageSize;
    private final Arena arena;
    // io_uring
    final BufferRing ring;
    final Netmem[] byBid;
    private final int[] freeBids;
    private int freeCount;
    int posted;
    /** Whether the kernel knows the ring; whether the multishot receive on it has ended. */
    boolean registered;
    boolean receiveEnded = true;
    // recvmmsg
    final int slots;
    /** Slots 0..filled-1 hold a page each. */
    int filled;
    final Netmem[] slotPages;
    final MemorySegment msgvec;
    final MemorySegment names;
    private final MemorySegment iovecs;

    private UringMem(int queue, int id, PagePool pool, int entries, boolean ioUring) {
        this.queue = queue;
        this.id = id;
        this.pool = pool;
        this.pageSize = pool.params().pageSize();
        this.arena = Arena.ofShared();
        if (ioUring) {
            this.ring = new BufferRing(arena, entries, id);
            this.byBid = new Netmem[entries];
            this.freeBids = new int[entries];
            for (int i = 0; i < entries; i++) {
                freeBids[i] = entries - 1 - i;
            }
            this.freeCount = entries;
            this.slots = 0;
            this.slotPages = null;
            this.msgvec = null;
            this.names = null;
            this.iovecs = null;
        } else {
            this.ring = null;
            this.byBid = null;
            this.freeBids = null;
            this.slots = Math.min(entries, 256);
            this.slotPages = new Netmem[slots];
            this.msgvec = arena.allocate((long) MMSGHDR * slots, 8);
            this.names = arena.allocate((long) Net.SOCKADDR_IN * slots, 8);
            this.iovecs = arena.allocate((long) IOVEC * slots, 8);
            for (int i = 0; i < slots; i++) {
                long m = (long) MMSGHDR * i;
                msgvec.set(ADDRESS, m, names.asSlice((long) Net.SOCKADDR_IN * i, Net.SOCKADDR_IN));
                msgvec.set(JAVA_INT, m + 8, Net.SOCKADDR_IN);
                msgvec.set(ADDRESS, m + 16, iovecs.asSlice((long) IOVEC * i, IOVEC));
                msgvec.set(JAVA_LONG, m + 24, 1L);
            }
        }
    }

    static UringMem forIoUring(int queue, int id, PagePool pool, int entries) {
        return new UringMem(queue, id, pool, entries, true);
    }

    static UringMem forRecvmmsg(int queue, int id, PagePool pool, int entries) {
        return new UringMem(queue, id, pool, entries, false);
    }

    @Override
    public int queue() {
        return queue;
    }

    @Override
    public PagePool pool() {
        return pool;
    }

    /** Where a page's memory starts, for the kernel. */
    static long address(Netmem nm) {
        return nm.area().memory().address() + ((long) nm.index() << nm.area().pageShift());
    }

    // ---- io_uring: buffer ids ------------------------------------------------------------------

    /** Posts a page under a free buffer id (publish the ring afterwards). */
    void post(Netmem nm) {
        if (freeCount == 0) {
            throw new IllegalStateException("buffer ring of group " + id + " is full (" + byBid.length + " posted)");
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
            throw new IllegalStateException("buffer id " + bid + " of group " + id + " has no page posted");
        }
        byBid[bid] = null;
        freeBids[freeCount++] = bid;
        posted--;
        return nm;
    }

    int room() {
        return ring.entries() - posted;
    }

    // ---- recvmmsg: slots -------------------------------------------------------------------------

    /** Puts a page in slot {@code i} for the next recvmmsg. */
    void slot(int i, Netmem nm) {
        slotPages[i] = nm;
        iovecs.set(JAVA_LONG, (long) IOVEC * i, address(nm));
        iovecs.set(JAVA_LONG, (long) IOVEC * i + 8, pageSize);
        msgvec.set(JAVA_INT, (long) MMSGHDR * i + 8, Net.SOCKADDR_IN);
    }

    /** The length and flags the kernel wrote into slot {@code i}. */
    int received(int i) {
        return msgvec.get(JAVA_INT, (long) MMSGHDR * i + 56);
    }

    int flags(int i) {
        return msgvec.get(JAVA_INT, (long) MMSGHDR * i + 48);
    }

    // ---- the end -----------------------------------------------------------------------------------

    /** Gives every page still posted back to the pool, and closes it (it detaches while pages are out). */
    void free() {
        if (byBid != null) {
            for (int bid = 0; bid < byBid.length; bid++) {
                if (byBid[bid] != null) {
                    pool.release(byBid[bid]);
                    byBid[bid] = null;
                }
            }
            posted = 0;
        }
        if (slotPages != null) {
            filled = 0;
            for (int i = 0; i < slots; i++) {
                if (slotPages[i] != null) {
                    pool.release(slotPages[i]);
                    slotPages[i] = null;
                }
            }
        }
        pool.close();
        arena.close();
    }
}

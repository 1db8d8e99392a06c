package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

import pagepool.api.Netmem;
import pagepool.api.PagePool;

/**
 * The recvmmsg path's memory: the slots of the next call's {@code struct mmsghdr} array, each with
 * a page, an iovec and room for the sender's address.
 */
final class SlotMem extends UringMem {

    /** The most datagrams one recvmmsg takes. */
    static final int MAX_SLOTS = 256;

    final int slots;
    /** Slots 0..filled-1 hold a page each. */
    int filled;
    final Netmem[] slotPages;
    final MemorySegment msgvec;
    final MemorySegment names;
    private final MemorySegment iovecs;

    SlotMem(int queue, PagePool pool, int entries) {
        super(queue, pool);
        this.slots = Math.min(entries, MAX_SLOTS);
        this.slotPages = new Netmem[slots];
        this.msgvec = arena.allocate((long) Net.MMSGHDR * slots, 8);
        this.names = arena.allocate((long) Net.SOCKADDR_IN * slots, 8);
        this.iovecs = arena.allocate((long) Net.IOVEC * slots, 8);
        for (int i = 0; i < slots; i++) {
            long m = (long) Net.MMSGHDR * i;
            msgvec.set(ADDRESS, m + Net.MSG_NAME, names.asSlice((long) Net.SOCKADDR_IN * i, Net.SOCKADDR_IN));
            msgvec.set(JAVA_INT, m + Net.MSG_NAMELEN, Net.SOCKADDR_IN);
            msgvec.set(ADDRESS, m + Net.MSG_IOV, iovecs.asSlice((long) Net.IOVEC * i, Net.IOVEC));
            msgvec.set(JAVA_LONG, m + Net.MSG_IOVLEN, 1L);
        }
    }

    /** Puts a page in slot {@code i} for the next recvmmsg. */
    void slot(int i, Netmem nm) {
        slotPages[i] = nm;
        iovecs.set(JAVA_LONG, (long) Net.IOVEC * i + Net.IOV_BASE, address(nm));
        iovecs.set(JAVA_LONG, (long) Net.IOVEC * i + Net.IOV_LEN, pageSize);
        msgvec.set(JAVA_INT, (long) Net.MMSGHDR * i + Net.MSG_NAMELEN, Net.SOCKADDR_IN);
    }

    /** The length and flags the kernel wrote into slot {@code i}. */
    int received(int i) {
        return msgvec.get(JAVA_INT, (long) Net.MMSGHDR * i + Net.MMSG_LEN);
    }

    int flags(int i) {
        return msgvec.get(JAVA_INT, (long) Net.MMSGHDR * i + Net.MSG_FLAGS);
    }

    @Override
    int posted() {
        return filled;
    }

    @Override
    void releasePosted() {
        filled = 0;
        for (int i = 0; i < slots; i++) {
            if (slotPages[i] != null) {
                pool.release(slotPages[i]);
                slotPages[i] = null;
            }
        }
    }

    @Override
    public String toString() {
        return "recvmmsg slots of queue " + queue;
    }
}

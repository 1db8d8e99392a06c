package pagepool.driver.sim;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import pagepool.api.Netmem;
import pagepool.api.PagePool;

/**
 * Packets a NAPI loop hands to a socket thread: a single-producer single-consumer ring of
 * preallocated entries, so delivery allocates nothing.
 */
final class SocketQueue {

    /**
     * One delivered packet: its payload page and its header, each with the pool to give it back
     * to and the generation it was handed out in (so a stale release is refused, not obeyed).
     */
    static final class Delivery {
        Netmem data;
        PagePool dataPool;
        int dataGen;
        int payloadAt;
        Netmem header;
        PagePool headerPool;
        int headerGen;
        int headerAt;

        void clear() {
            data = null;
            dataPool = null;
            header = null;
            headerPool = null;
        }
    }

    private static final VarHandle TAIL;
    private static final VarHandle HEAD;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            TAIL = l.findVarHandle(SocketQueue.class, "tail", long.class);
            HEAD = l.findVarHandle(SocketQueue.class, "head", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final SimQueue queue;
    private final Delivery[] entries;
    private final int mask;
    @SuppressWarnings("unused") // through TAIL
    private volatile long tail;
    @SuppressWarnings("unused") // through HEAD
    private volatile long head;

    SocketQueue(SimQueue queue, int capacity) {
        this.queue = queue;
        this.entries = new Delivery[capacity];
        for (int i = 0; i < capacity; i++) {
            entries[i] = new Delivery();
        }
        this.mask = capacity - 1;
    }

    /** Set by the producer when it found the socket full and held back; cleared by the consumer. */
    volatile boolean producerWaiting;

    /** Producer: whether an entry is free. */
    boolean hasRoom() {
        return (long) TAIL.getOpaque(this) - (long) HEAD.getAcquire(this) < entries.length;
    }

    /**
     * Consumer: after taking entries, wakes a producer that held back once a quarter of the socket
     * is free again (the window update).
     */
    void windowUpdate() {
        if (producerWaiting && (long) TAIL.getAcquire(this) - (long) HEAD.getOpaque(this) <= 3L * entries.length / 4) {
            producerWaiting = false;
            queue.wakeNapi();
        }
    }

    /** Producer: the entry to fill, or null when the socket is full. Publish with {@link #publish()}. */
    Delivery claim() {
        long t = (long) TAIL.getOpaque(this);
        if (t - (long) HEAD.getAcquire(this) >= entries.length) {
            return null;
        }
        return entries[(int) (t & mask)];
    }

    void publish() {
        TAIL.setRelease(this, (long) TAIL.getOpaque(this) + 1);
    }

    /** Consumer: the oldest entry, or null. Hand it back with {@link #consumed()}. */
    Delivery peek() {
        long h = (long) HEAD.getOpaque(this);
        if (h == (long) TAIL.getAcquire(this)) {
            return null;
        }
        return entries[(int) (h & mask)];
    }

    void consumed() {
        HEAD.setRelease(this, (long) HEAD.getOpaque(this) + 1);
    }
}

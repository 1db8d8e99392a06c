package pagepool.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The pool's bounded multi-producer, single-consumer ring (the kernel's {@code ptr_ring}, minus
 * its producer spinlock). Producers claim a slot by CAS on the producer index and publish the
 * element with a release store; the single consumer (the NAPI owner, or the detach path after
 * NAPI stopped) takes elements in order.
 *
 * <p>Why our own and not JCTools' VarHandle {@code MpscVarHandleArrayQueue}
 * ({@code jctools-core-jdk11} 4.0.6), measured with {@code ./bench ring}: it is no faster (an
 * offer and a poll on one thread 7.86 ns against our 7.80; across two threads 35.4 M elements/s
 * with its {@code relaxedPoll} against our 32.5 M, within our error), and its bundle does not
 * load in OSGi: its manifest imports neither {@code org.jctools.queues} nor
 * {@code org.jctools.util}, which its classes need, so every pool fails with
 * {@code NoClassDefFoundError: org/jctools/queues/MessagePassingQueue}; embedded with bnd, its
 * packages carry {@code @Export} and would be exported by the engine. This ring is a hundred
 * lines of VarHandles, and its producer index doubles as the pool's {@code recycle_ring} count.
 */
final class RecycleRing<E> extends RecycleRingFields {

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);

    private final Object[] slots;
    private final int mask;
    private final int capacity;

    /** @param capacity rounded up to a power of two */
    RecycleRing(int capacity) {
        int c = capacity <= 1 ? 1 : Integer.highestOneBit(capacity - 1) << 1;
        this.capacity = c;
        this.mask = c - 1;
        this.slots = new Object[c];
        this.producerLimit = c;
    }

    int capacity() {
        return capacity;
    }

    /** Adds from any thread; false when the ring is full. */
    boolean offer(E e) {
        long limit = (long) PRODUCER_LIMIT.getOpaque(this);
        long pi;
        do {
            pi = (long) PRODUCER_INDEX.getVolatile(this);
            if (pi >= limit) {
                limit = (long) CONSUMER_INDEX.getAcquire(this) + capacity;
                if (pi >= limit) {
                    return false;
                }
                PRODUCER_LIMIT.setOpaque(this, limit);
            }
        } while (!PRODUCER_INDEX.compareAndSet(this, pi, pi + 1));
        SLOT.setRelease(slots, (int) (pi & mask), e);
        return true;
    }

    /**
     * Adds the first {@code n} elements of {@code src} from any thread, with one reservation: as
     * many as there is room for, in order.
     *
     * @return how many were added
     */
    int offer(Object[] src, int n) {
        long limit = (long) PRODUCER_LIMIT.getOpaque(this);
        long pi;
        int k;
        do {
            pi = (long) PRODUCER_INDEX.getVolatile(this);
            if (pi + n > limit) {
                limit = (long) CONSUMER_INDEX.getAcquire(this) + capacity;
                PRODUCER_LIMIT.setOpaque(this, limit);
            }
            k = (int) Math.min(n, limit - pi);
            if (k <= 0) {
                return 0;
            }
        } while (!PRODUCER_INDEX.compareAndSet(this, pi, pi + k));
        for (int i = 0; i < k; i++) {
            SLOT.setRelease(slots, (int) ((pi + i) & mask), src[i]);
        }
        return k;
    }

    /**
     * Takes the oldest element; consumer only. Returns null when the ring is empty, or when the
     * producer of the next slot has claimed it but not yet published (it will be there next time).
     */
    @SuppressWarnings("unchecked")
    E poll() {
        long ci = (long) CONSUMER_INDEX.getOpaque(this);
        int i = (int) (ci & mask);
        Object e = SLOT.getAcquire(slots, i);
        if (e == null) {
            return null;
        }
        SLOT.setOpaque(slots, i, null);
        CONSUMER_INDEX.setRelease(this, ci + 1);
        return (E) e;
    }

    boolean isEmpty() {
        return (long) CONSUMER_INDEX.getAcquire(this) == (long) PRODUCER_INDEX.getAcquire(this);
    }

    int size() {
        long ci = (long) CONSUMER_INDEX.getAcquire(this);
        return (int) Math.max(0, (long) PRODUCER_INDEX.getAcquire(this) - ci);
    }

    /** Elements ever offered successfully: the pool's {@code recycle_ring} counter. */
    long offered() {
        return (long) PRODUCER_INDEX.getAcquire(this);
    }
}

/** Padding keeps the producer and consumer indexes on separate cache lines. */
abstract class RecycleRingPad0 {
    long p00, p01, p02, p03, p04, p05, p06, p07;
}

abstract class RecycleRingProducer extends RecycleRingPad0 {
    volatile long producerIndex;
    volatile long producerLimit;
}

abstract class RecycleRingPad1 extends RecycleRingProducer {
    long p10, p11, p12, p13, p14, p15, p16, p17;
}

abstract class RecycleRingFields extends RecycleRingPad1 {
    static final VarHandle PRODUCER_INDEX;
    static final VarHandle PRODUCER_LIMIT;
    static final VarHandle CONSUMER_INDEX;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            PRODUCER_INDEX = l.findVarHandle(RecycleRingProducer.class, "producerIndex", long.class);
            PRODUCER_LIMIT = l.findVarHandle(RecycleRingProducer.class, "producerLimit", long.class);
            CONSUMER_INDEX = l.findVarHandle(RecycleRingFields.class, "consumerIndex", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile long consumerIndex;
    long p20, p21, p22, p23, p24, p25, p26, p27;
}

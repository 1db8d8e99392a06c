package pagepool.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import pagepool.api.DeviceMemory;
import pagepool.api.MemoryArea;
import pagepool.api.Netmem;

/**
 * A netmem with the pool's bookkeeping: the pool that has it out and its reference count (the
 * kernel's {@code pp} and {@code pp_ref_count} in {@code struct page}), and its generation. 40
 * bytes with compressed oops: 12 header, area and index from {@link Netmem}; pool, device view,
 * generation, refs, recyclable and gone here (38, aligned to 40).
 */
final class PoolNetmem extends Netmem {

    private static final VarHandle REFS;

    static {
        try {
            REFS = MethodHandles.lookup().findVarHandle(PoolNetmem.class, "refs", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The pool the page is in (cache, ring or out with a user); null while the provider has it. */
    PagePoolImpl pool;

    /**
     * {@code MemoryArea.isRecyclable()}, kept here: the recycle path reads it from the page it
     * already touches instead of through the area (a dependent load, 0.36 ns of 3.5).
     */
    final boolean recyclable;

    /** The device's view of unreadable memory, for the pool's driver only; null for host memory. */
    final DeviceMemory device;

    /** Bumped each time the pool hands the page out, by the allocating (NAPI) thread. */
    int generation;

    /**
     * The provider let the page go for good ({@code releaseNetmem} returned true, Linux's
     * {@code put_page}): handed out again, it is refused as the provider's fault.
     */
    boolean gone;

    /** References held by users; 0 while the page rests in the pool. */
    @SuppressWarnings("unused") // through REFS
    private int refs;

    PoolNetmem(MemoryArea area, int index, DeviceMemory device) {
        super(area, index);
        this.device = device;
        this.recyclable = area.isRecyclable();
    }

    @Override
    public int generation() {
        return generation;
    }

    /**
     * Hands the page out with {@code n} references. The caller owns the page exclusively, so a
     * plain store, as Linux's {@code atomic_long_set} of {@code pp_ref_count}: the page reaches
     * another thread only through a hand-off that orders memory (a queue, a socket's lock), and
     * that hand-off publishes the count and the generation with it. A release store here would
     * buy nothing a caller can rely on (a stale holder checks the generation before it drops
     * the count, so ordering the two does not close that race) and costs the fast path a
     * compiler barrier that makes it reload every field after it.
     */
    void setRefs(int n) {
        REFS.set(this, n);
    }

    /**
     * Drops one reference.
     *
     * @return the count before the drop: 1 means this was the last reference, 0 or less means
     *         there was none to drop (nothing was changed)
     */
    int unref() {
        int r = (int) REFS.getAcquire(this);
        while (r > 0) {
            int witness = (int) REFS.compareAndExchange(this, r, r - 1);
            if (witness == r) {
                return r;
            }
            r = witness;
        }
        return r;
    }

    /**
     * Takes one more reference, if the page has one (it is out).
     *
     * @return the count before: 0 or less means the page had none, and nothing was changed
     */
    int ref() {
        int r = (int) REFS.getAcquire(this);
        while (r > 0) {
            int witness = (int) REFS.compareAndExchange(this, r, r + 1);
            if (witness == r) {
                return r;
            }
            r = witness;
        }
        return r;
    }

    /**
     * Drops the only reference from the pool's NAPI owner without an atomic instruction, as the
     * kernel does for {@code pp_ref_count == 1}: nobody else may hold the page when its only
     * reference is the caller's. A sequential second release then sees 0 and is refused; only two
     * threads releasing the same page at the same instant could both pass, which is a caller bug
     * the kernel does not catch either.
     *
     * @return true when the page had exactly one reference, now none; false when nothing changed
     */
    boolean dropLastOwner() {
        if ((int) REFS.getOpaque(this) == 1) {
            REFS.setOpaque(this, 0);
            return true;
        }
        return false;
    }

    /** Drops {@code n} references at once; returns the count after. */
    int unref(int n) {
        return (int) REFS.getAndAdd(this, -n) - n;
    }
}

package pagepool.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import pagepool.api.Checks;
import pagepool.api.Netmem;

/** A single-producer single-consumer queue: the benchmark's NAPI thread hands pages to its stack thread. */
final class SpscHandoff {

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Netmem[].class);
    private final Netmem[] slots;
    private final int mask;
    private long head;
    private long tail;

    SpscHandoff(int capacity) {
        Checks.powerOfTwo("capacity", capacity);
        slots = new Netmem[capacity];
        mask = capacity - 1;
    }

    /** Producer only. */
    boolean offer(Netmem nm) {
        int i = (int) (tail & mask);
        if (SLOT.getAcquire(slots, i) != null) {
            return false;
        }
        SLOT.setRelease(slots, i, nm);
        tail++;
        return true;
    }

    /** Consumer only. */
    Netmem poll() {
        int i = (int) (head & mask);
        Netmem nm = (Netmem) SLOT.getAcquire(slots, i);
        if (nm != null) {
            SLOT.setRelease(slots, i, null);
            head++;
        }
        return nm;
    }
}

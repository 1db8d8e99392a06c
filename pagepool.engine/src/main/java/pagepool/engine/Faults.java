package pagepool.engine;

import java.util.concurrent.atomic.AtomicLongArray;

import pagepool.api.ProviderFaults;

/**
 * What a provider threw, by call: one for each pool and one for the provider over all its pools.
 * Counted from whichever thread met the fault (NAPI, socket, reconciler); off the hot path.
 */
final class Faults {

    /** The provider calls a fault is counted against. */
    enum Call {
        INIT("init"), ALLOC("allocNetmems"), RELEASE("releaseNetmem"), DESTROY("destroy"), OTHER("other");

        final String method;

        Call(String method) {
            this.method = method;
        }
    }

    private final AtomicLongArray counts = new AtomicLongArray(Call.values().length);
    private volatile String last = "";
    /** Calls whose first fault was logged, one bit each. */
    private final java.util.concurrent.atomic.AtomicInteger logged = new java.util.concurrent.atomic.AtomicInteger();
    /** For a pool: its provider's allocation faulted, so the pool asks it for nothing more. */
    volatile boolean allocFailed;

    /** @return how many faults of this call there were, this one included */
    long record(Call call, String what) {
        last = what;
        return counts.incrementAndGet(call.ordinal());
    }

    /** True the first time this is asked for a call: that fault is the one to log. */
    boolean firstOf(Call call) {
        int bit = 1 << call.ordinal();
        return (logged.getAndUpdate(m -> m | bit) & bit) == 0;
    }

    long total() {
        long t = 0;
        for (int i = 0; i < counts.length(); i++) {
            t += counts.get(i);
        }
        return t;
    }

    String last() {
        return last;
    }

    void clear() {
        for (int i = 0; i < counts.length(); i++) {
            counts.set(i, 0);
        }
        last = "";
    }

    ProviderFaults snapshot() {
        return new ProviderFaults(counts.get(Call.INIT.ordinal()), counts.get(Call.ALLOC.ordinal()),
                counts.get(Call.RELEASE.ordinal()), counts.get(Call.DESTROY.ordinal()), counts.get(Call.OTHER.ordinal()),
                last);
    }

    /** What a call threw, in one line: {@code allocNetmems threw IllegalStateException: no slab}. */
    static String describe(String method, Throwable t) {
        String msg = t.getMessage();
        return method + " threw " + t.getClass().getSimpleName() + (msg == null || msg.isBlank() ? "" : ": " + msg);
    }
}

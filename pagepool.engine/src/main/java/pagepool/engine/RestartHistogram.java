package pagepool.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

import pagepool.api.binding.RestartLatency;

/**
 * Restart times in fixed buckets, from 10 µs to 5 s: a swap takes tens of microseconds, a stop
 * and start under load milliseconds, a slow provider seconds. Recorded on the engine thread, read
 * by any thread (scrapes).
 */
final class RestartHistogram {

    private static final long[] BOUNDS_NANOS = {us(10), us(25), us(50), us(100), us(250), us(500), ms(1), us(2500),
        ms(5), ms(10), ms(25), ms(50), ms(100), ms(250), ms(1000), ms(5000)};

    private final AtomicLongArray counts = new AtomicLongArray(BOUNDS_NANOS.length + 1);
    private final LongAdder sumNanos = new LongAdder();
    private final LongAdder hitless = new LongAdder();
    private final LongAdder failed = new LongAdder();

    private static long us(long n) {
        return TimeUnit.MICROSECONDS.toNanos(n);
    }

    private static long ms(long n) {
        return TimeUnit.MILLISECONDS.toNanos(n);
    }

    void record(RestartRecord r) {
        if (!r.done()) {
            failed.increment();
            return;
        }
        long nanos = r.swapNanos();
        int i = 0;
        while (i < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[i]) {
            i++;
        }
        counts.incrementAndGet(i);
        sumNanos.add(nanos);
        if (r.hitless()) {
            hitless.increment();
        }
    }

    RestartLatency snapshot() {
        List<Long> bounds = new ArrayList<>(BOUNDS_NANOS.length);
        for (long b : BOUNDS_NANOS) {
            bounds.add(b);
        }
        List<Long> c = new ArrayList<>(counts.length());
        for (int i = 0; i < counts.length(); i++) {
            c.add(counts.get(i));
        }
        return new RestartLatency(bounds, c, sumNanos.sum(), hitless.sum(), failed.sum());
    }
}

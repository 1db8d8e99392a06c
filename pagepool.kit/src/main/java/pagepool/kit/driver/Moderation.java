package pagepool.kit.driver;

import java.util.concurrent.TimeUnit;

/**
 * Interrupt moderation for a queue that waits on an event (a completion ring, a socket): how long
 * to keep waiting, once the first event is there, for a batch to gather. Fixed, it is
 * {@code ethtool -C rx-usecs}; adaptive, it is Linux's {@code net_dim}: every {@value #SAMPLE_WAKES}
 * wakes it measures the events' rate and picks the wait that gathers about {@value #TARGET_BATCH}
 * events per wake, so the cost of a wake-up is shared by a batch at any rate the sender sets. At
 * full rate a batch is there at once and the wait ends early; at a rate too low for even
 * {@value #MAX_MICROS} µs to gather two events, waiting would only add latency, and it does not
 * wait at all.
 *
 * <p>The queue's thread only: {@link #woke} once per wake, no allocation, {@code nanoTime} once
 * per sample.
 */
public final class Moderation {

    /** Events per wake the adaptive policy aims for. */
    public static final int TARGET_BATCH = 16;
    /** The longest it waits for a batch: Linux's DIM profiles stop at a few hundred microseconds. */
    public static final int MAX_MICROS = 256;
    /** The events a moderated wait waits for at most; the wait ends when they are there. */
    public static final int MAX_BATCH = 64;
    static final int SAMPLE_WAKES = 32;
    /** Below this many events per {@link #MAX_MICROS}, a wait gathers too little to pay for its latency. */
    private static final double MIN_GATHER = 2.0;

    private final boolean adaptive;
    private int micros;
    private long sampleStart = System.nanoTime();
    private long sampleEvents;
    private int sampleWakes;
    private long changes;

    private Moderation(boolean adaptive, int micros) {
        this.adaptive = adaptive;
        this.micros = micros;
    }

    /** A fixed wait ({@code rx-usecs}); 0 wakes for every event. */
    public static Moderation fixed(int micros) {
        if (micros < 0) {
            throw new IllegalArgumentException("micros: " + micros + " (expected: >= 0)");
        }
        return new Moderation(false, micros);
    }

    /** The wait chosen by the events' rate, starting with none. */
    public static Moderation adaptive() {
        return new Moderation(true, 0);
    }

    public boolean isAdaptive() {
        return adaptive;
    }

    /** How long to wait for a batch once an event is there; 0: return with the first. */
    public int waitMicros() {
        return micros;
    }

    /** How many events end a wait early: a batch when moderating, else one. */
    public int batch() {
        return micros > 0 ? MAX_BATCH : 1;
    }

    /** Times the adaptive policy changed the wait. */
    public long changes() {
        return changes;
    }

    /** A wake that found {@code events} events (0: a timeout or a task). */
    public void woke(int events) {
        if (!adaptive) {
            return;
        }
        sampleEvents += events;
        if (++sampleWakes < SAMPLE_WAKES) {
            return;
        }
        long now = System.nanoTime();
        int next = choose(sampleEvents, now - sampleStart);
        if (next != micros) {
            micros = next;
            changes++;
        }
        sampleStart = now;
        sampleEvents = 0;
        sampleWakes = 0;
    }

    /** The wait for a rate of {@code events} in {@code nanos}. */
    static int choose(long events, long nanos) {
        if (events <= 0 || nanos <= 0) {
            return 0;
        }
        double perMicro = events * 1e3 / nanos;
        if (perMicro * MAX_MICROS < MIN_GATHER) {
            return 0;
        }
        double wait = TARGET_BATCH / perMicro;
        if (wait < 1) {
            return 0; // a batch gathers by itself: a wait would only delay the first event
        }
        return (int) Math.min(MAX_MICROS, Math.round(wait));
    }

    @Override
    public String toString() {
        return adaptive ? "adaptive (now " + micros + " us)" : micros == 0 ? "off" : micros + " us";
    }

    /** For tests and benchmarks: a rate's wait, as {@link #woke} would choose it. */
    static int forRate(double eventsPerSecond) {
        return choose((long) eventsPerSecond, TimeUnit.SECONDS.toNanos(1));
    }
}

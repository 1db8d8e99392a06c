package pagepool.kit.driver;

import java.util.concurrent.TimeUnit;

/**
 * Interrupt moderation for a queue that waits on an event (a completion ring, a socket): how long
 * to keep waiting, once the first event is there, for a batch to gather. Fixed, it is
 * {@code ethtool -C rx-usecs}; adaptive, it works as Linux's {@code net_dim} does: every
 * {@value #SAMPLE_WAKES} wakes that found events it looks at the events per wake and moves one
 * step along a ladder of waits ({@link #LEVELS}): up while the batch is short of
 * {@value #TARGET_BATCH} and the last step up made it grow by a quarter or more; back down when
 * a step up gathered nothing more (then it stays there a while before it tries again), or when
 * batches run to twice the target. So a queue that wakes for one or two datagrams at a steady
 * rate learns to wait for a batch; traffic that arrives in bursts waits only as long as a burst
 * takes to arrive; at full rate batches come by themselves and the queue does not wait; at a rate
 * too low to gather anything it waits only while it tries, one sample in
 * {@value #HOLD_SAMPLES} + 1.
 *
 * <p>The queue's thread only: {@link #woke} once per wake, a few adds, no allocation.
 */
public final class Moderation {

    /** Events per wake the adaptive policy aims for. */
    public static final int TARGET_BATCH = 16;
    /** The waits the adaptive policy steps through, in microseconds. */
    static final int[] LEVELS = {0, 8, 16, 32, 64, 128, 256};
    /** The longest it waits for a batch: Linux's DIM profiles stop at a few hundred microseconds. */
    public static final int MAX_MICROS = 256;
    /** The events a moderated wait waits for at most; the wait ends when they are there. */
    public static final int MAX_BATCH = 64;
    static final int SAMPLE_WAKES = 32;
    /** Samples a level stays after a step up that did not pay. */
    static final int HOLD_SAMPLES = 32;
    /** How much a step up must grow the batch to count as paying. */
    private static final double GAIN = 1.25;

    private final boolean adaptive;
    private int micros;
    private int level;
    private boolean steppedUp;
    private double lastBatch;
    private int hold;
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

    /** The wait chosen by the batches it gathers, starting with none. */
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

    /** A wake that found {@code events} events (0: a timeout or a task, which a sample does not count). */
    public void woke(int events) {
        if (!adaptive || events <= 0) {
            return;
        }
        sampleEvents += events;
        if (++sampleWakes < SAMPLE_WAKES) {
            return;
        }
        step(sampleEvents / (double) sampleWakes);
        sampleEvents = 0;
        sampleWakes = 0;
    }

    /** One decision, on a sample's events per wake. */
    void step(double batch) {
        int next = level;
        boolean up = false;
        if (hold > 0) {
            hold--;
        } else if (steppedUp && batch < lastBatch * GAIN) {
            next = level - 1; // the step up gathered nothing more: back, and stay a while
            hold = HOLD_SAMPLES;
        } else if (batch >= 2 * TARGET_BATCH && level > 0) {
            next = level - 1; // more than enough: wait less
        } else if (batch < TARGET_BATCH && level < LEVELS.length - 1) {
            next = level + 1; // short of a batch: try a longer wait (a try that does not pay is undone)
            up = true;
        }
        steppedUp = up;
        lastBatch = batch;
        if (next != level) {
            level = next;
            micros = LEVELS[level];
            changes++;
        }
    }

    @Override
    public String toString() {
        return adaptive ? "adaptive (now " + micros + " us)" : micros == 0 ? "off" : micros + " us";
    }
}

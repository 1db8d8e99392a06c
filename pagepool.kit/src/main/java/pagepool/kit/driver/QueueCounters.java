package pagepool.kit.driver;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One queue's counters, named as {@code pp:devstats} shows them. The queue's own thread (whoever
 * holds its NAPI context) counts with {@link #add} into plain longs (no atomic on the receive
 * path) and makes a batch visible with one {@link #publish}; any other thread (a socket thread, a
 * token's owner) counts with {@link #addShared}, atomically. A counter's value is the sum of both, so one name can be
 * counted from both sides. Readers on other threads see every count up to the last publish.
 */
public final class QueueCounters {

    /** Starts after the first; counted by {@link RxQueue}. */
    public static final String RESTARTS = "restarts";
    /** Unexpected errors the queue's thread (or another of the driver's) met; counted by {@link RxQueue}. */
    public static final String ERRORS = "errors";

    private final String[] names;
    private final long[] own;
    private final AtomicLongArray shared;
    private volatile long batches;

    /**
     * Counters named after an enum's constants, in their order ({@code DROPS_NO_BUFFER} is
     * {@code drops-no-buffer}); counted with the constants themselves ({@link #add(Enum, long)}).
     * It must have {@code RESTARTS} and {@code ERRORS}.
     */
    public <E extends Enum<E>> QueueCounters(Class<E> names) {
        this(namesOf(names));
    }

    private static <E extends Enum<E>> String[] namesOf(Class<E> type) {
        E[] all = type.getEnumConstants();
        String[] names = new String[all.length];
        for (E e : all) {
            names[e.ordinal()] = e.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
        return names;
    }

    /**
     * @param names every counter, in the order {@link #putInto} lists them; must include
     *        {@link #RESTARTS} and {@link #ERRORS}
     */
    public QueueCounters(String... names) {
        this.names = names.clone();
        if (Arrays.stream(this.names).distinct().count() != this.names.length) {
            throw new IllegalArgumentException("counter names " + List.of(names) + " (expected: each once)");
        }
        this.own = new long[names.length];
        this.shared = new AtomicLongArray(names.length);
        index(RESTARTS);
        index(ERRORS);
    }

    /** The index of a counter, for the counting calls. */
    public int index(String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("counter: '" + name + "' (expected: one of " + List.of(names) + ")");
    }

    /** The queue's thread only. */
    public void add(int counter, long n) {
        own[counter] += n;
    }

    /** The queue's thread only: the counter of the enum these counters were made from. */
    public void add(Enum<?> counter, long n) {
        own[counter.ordinal()] += n;
    }

    /** The queue's thread only: a count somebody else keeps (the kernel), copied. */
    public void set(Enum<?> counter, long value) {
        own[counter.ordinal()] = value;
    }

    /** Any thread. */
    public void addShared(Enum<?> counter, long n) {
        shared.getAndAdd(counter.ordinal(), n);
    }

    /** The queue's thread only: a count somebody else keeps (the kernel), copied. */
    public void set(int counter, long value) {
        own[counter] = value;
    }

    /** The queue's thread only: makes its counts so far visible to other threads. */
    public void publish() {
        batches = batches + 1;
    }

    /** Any thread. */
    public void addShared(int counter, long n) {
        shared.getAndAdd(counter, n);
    }

    /** A counter's value as of the last publish (and every shared count). */
    public long get(int counter) {
        @SuppressWarnings("unused") // its volatile read orders the plain read below after the last publish
        long published = batches;
        return own[counter] + shared.get(counter);
    }

    /** Every counter into {@code m}, in order. */
    public <M extends Map<String, Long>> M putInto(M m) {
        @SuppressWarnings("unused")
        long published = batches;
        for (int i = 0; i < names.length; i++) {
            m.put(names[i], own[i] + shared.get(i));
        }
        return m;
    }
}

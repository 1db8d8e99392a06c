package pagepool.engine;

import pagepool.api.QueueId;

/**
 * When each phase of one queue restart ended (memAlloc, the switch, the free), as
 * {@link RestartRecord}; and its JFR event, with the queue's drops over it, when recording.
 */
final class RestartPhases {

    private final Device dev;
    private final int index;
    private final PluginCalls calls;
    private final PoolEvents.QueueRestart event = new PoolEvents.QueueRestart();
    private final long dropsBefore;
    private final long start;
    private long allocated;
    private long switched;

    RestartPhases(Device dev, int index, PluginCalls calls) {
        this.dev = dev;
        this.index = index;
        this.calls = calls;
        event.begin();
        this.dropsBefore = event.isEnabled() ? drops() : -1;
        this.start = System.nanoTime(); // the phases start after the read of the drops; the event spans both
    }

    RestartPhases allocated() {
        allocated = System.nanoTime();
        return this;
    }

    RestartPhases switched() {
        switched = System.nanoTime();
        return this;
    }

    RestartRecord record(QueueId queue, GuardedProvider from, GuardedProvider to, boolean done, boolean hitless,
            String failure) {
        long now = System.nanoTime();
        long a = allocated == 0 ? now : allocated;
        long s = switched == 0 ? a : switched;
        RestartRecord r = new RestartRecord(queue, name(from), to.name, done, hitless, failure, a - start, s - a,
                now - s);
        event.end();
        if (event.shouldCommit()) {
            event.device = queue.device();
            event.queue = queue.index();
            event.fromProvider = r.from();
            event.toProvider = r.to();
            event.done = done;
            event.hitless = hitless;
            event.failure = failure;
            event.allocNanos = r.allocNanos();
            event.switchNanos = r.switchNanos();
            event.freeNanos = r.freeNanos();
            long after = dropsBefore < 0 ? -1 : drops();
            event.dropped = after < 0 ? -1 : after - dropsBefore;
            event.commit();
        }
        return r;
    }

    /**
     * The driver's drops counter of the queue, or -1 when it has none, its stats fail, or it does
     * not answer within its read budget ({@link Device#statsReads}).
     */
    private long drops() {
        try {
            Long d = dev.statsReads.read(calls.readers(), "queueStats of " + dev.name + "/" + index,
                    () -> dev.dev.queueStats(index).get("drops"));
            return d == null ? -1 : d;
        } catch (Throwable t) {
            return -1;
        }
    }

    private static String name(GuardedProvider p) {
        return p == null ? "" : p.name;
    }
}

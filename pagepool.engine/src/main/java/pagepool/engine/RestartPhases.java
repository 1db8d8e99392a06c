package pagepool.engine;

import pagepool.api.QueueId;

/**
 * When each phase of one queue restart ended (memAlloc, the switch, the free), as
 * {@link RestartRecord}; and its JFR event, with the queue's drops over it, when recording.
 */
final class RestartPhases {

    private final Device dev;
    private final int index;
    private final PoolEvents.QueueRestart event = new PoolEvents.QueueRestart();
    private final long dropsBefore;
    private final long start = System.nanoTime();
    private long allocated;
    private long switched;

    RestartPhases(Device dev, int index) {
        this.dev = dev;
        this.index = index;
        this.dropsBefore = event.isEnabled() ? drops(dev, index) : -1;
        event.begin();
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
            long after = dropsBefore < 0 ? -1 : drops(dev, index);
            event.dropped = after < 0 ? -1 : after - dropsBefore;
            event.commit();
        }
        return r;
    }

    /** The driver's drops counter of the queue, or -1 when it has none or its stats fail. */
    private static long drops(Device dev, int queue) {
        try {
            Long d = dev.dev.queueStats(queue).get("drops");
            return d == null ? -1 : d;
        } catch (Throwable t) {
            return -1;
        }
    }

    private static String name(GuardedProvider p) {
        return p == null ? "" : p.name;
    }
}

package pagepool.engine;

import pagepool.api.QueueId;

/**
 * One queue restart as it happened: from which provider onto which, whether the queue runs on the
 * new memory, how it switched, and how long each phase took. The engine logs each one (at debug
 * level); embedders and benchmarks can listen to them ({@link StandaloneEngine#onRestart}).
 *
 * @param queue the queue
 * @param from the provider it ran on, or "" if it ran on nothing (a first start)
 * @param to the provider it was restarted onto
 * @param done whether it runs on {@code to} now
 * @param hitless whether it switched without stopping ({@code swap}), rather than stop and start
 * @param failure why not done, or ""
 * @param allocNanos {@code memAlloc} of the new memory
 * @param switchNanos {@code swap}, or {@code stop} and {@code start}: the queue is stopped for
 *        this long unless the switch was hitless
 * @param freeNanos {@code memFree} of the old memory
 */
public record RestartRecord(QueueId queue, String from, String to, boolean done, boolean hitless, String failure,
        long allocNanos, long switchNanos, long freeNanos) {

    /** From the start of the restart until the queue ran on its new memory. */
    public long swapNanos() {
        return allocNanos + switchNanos;
    }

    /** How long the queue was stopped: the only time it can drop packets; 0 for a hitless switch. */
    public long stoppedNanos() {
        return hitless ? 0 : switchNanos;
    }

    /** The whole restart, freeing the old memory included. */
    public long totalNanos() {
        return allocNanos + switchNanos + freeNanos;
    }
}

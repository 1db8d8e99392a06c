package pagepool.engine;

import pagepool.api.QueueId;

/**
 * One queue restart as it happened: from which provider onto which, whether the queue runs on the
 * new memory, and how long each part took. The engine logs each one (at debug level); embedders
 * and benchmarks can listen to them ({@link StandaloneEngine#onRestart}).
 *
 * @param queue the queue
 * @param from the provider it ran on, or "" if it ran on nothing (a first start)
 * @param to the provider it was restarted onto
 * @param done whether it runs on {@code to} now
 * @param failure why not, or ""
 * @param swapNanos from the start of the restart until the queue ran on its new memory (0 if not done)
 * @param stoppedNanos how long the queue was stopped: the only part where it can drop packets
 * @param totalNanos the whole restart, freeing the old memory included
 */
public record RestartRecord(QueueId queue, String from, String to, boolean done, String failure, long swapNanos,
        long stoppedNanos, long totalNanos) {
}

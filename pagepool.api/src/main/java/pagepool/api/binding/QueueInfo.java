package pagepool.api.binding;

import pagepool.api.QueueId;

/**
 * An RX queue and its memory, as netlink {@code queue-get} shows it.
 *
 * @param queue the queue
 * @param provider the provider its memory comes from now
 * @param bindingId the binding that covers it, or 0
 * @param poolId the pool its payload buffers come from, or 0 when unknown
 * @param state whether the queue runs as configured
 * @param restarts how often the engine restarted it
 * @param message the last failure, or empty
 */
public record QueueInfo(QueueId queue, String provider, long bindingId, int poolId, State state, long restarts,
        String message) {

    public enum State {
        /** Runs on the memory its binding (or the default) asks for. */
        OK,
        /** Its binding waits for a provider; it runs on the default meanwhile. */
        PENDING,
        /** A restart failed and was rolled back: it runs on its previous memory. */
        UNHEALTHY,
        /** A restart failed and so did the rollback: the queue is stopped. */
        DOWN
    }
}

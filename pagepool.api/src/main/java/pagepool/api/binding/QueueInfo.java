package pagepool.api.binding;

import pagepool.api.QueueId;

/**
 * An RX queue and its memory, as netlink {@code queue-get} shows it.
 *
 * @param queue the queue
 * @param provider the provider its memory comes from now, or empty while it has none
 * @param bindingId the binding that covers it, or 0
 * @param poolId the pool its payload buffers come from, or 0 when it has none
 * @param state whether the queue runs as configured
 * @param restarts starts after the queue's first: restarts and swaps onto new memory, and starts
 *        from nothing after link down or a failure (the driver's {@code restarts} counts the same)
 * @param message the last failure, or empty
 */
public record QueueInfo(QueueId queue, String provider, long bindingId, int poolId, State state, long restarts,
        String message) {

    public enum State {
        /** Runs on the memory its binding (or the default) asks for. */
        OK,
        /** Its binding waits for a provider; it runs on the default meanwhile. */
        PENDING,
        /**
         * It does not run on the memory it should: a restart onto that memory failed and was rolled
         * back, or that memory's provider faulted and the queue fell back to the default provider.
         * The message says which.
         */
        UNHEALTHY,
        /** Its driver reported a failure on it; the engine restarts it to recover. */
        FAILED,
        /** A restart failed and so did the rollback, or no provider can serve it: the queue is stopped. */
        DOWN
    }
}

package pagepool.api.binding;

import java.time.Instant;

import org.osgi.annotation.versioning.ProviderType;

import pagepool.api.QueueId;

/**
 * Something that changed, as {@code ynl --subscribe page-pool} reports it: a pool was added,
 * detached or destroyed, or a queue changed provider or state. Delivered to the listeners of
 * {@link PoolBindings#subscribe} in the order it happened.
 *
 * @param time when
 * @param kind what changed
 * @param pool the pool's id; 0 for a queue change
 * @param queue the queue, or null for a pool of no queue
 * @param provider the pool's provider, or the provider the queue runs on now ("" for none)
 * @param detail the rest in words: a queue's state and what it switched from, a pool's pages in flight
 */
public record Change(Instant time, Kind kind, int pool, QueueId queue, String provider, String detail) {

    public enum Kind {
        POOL_ADDED, POOL_DETACHED, POOL_DESTROYED, QUEUE_CHANGED
    }

    /** Ends a subscription; closing twice does nothing. */
    @ProviderType
    public interface Subscription extends AutoCloseable {
        @Override
        void close();
    }
}

package pagepool.api.queue;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * netdevsim's debugging aids, offered by drivers that have them (the {@link NetDevice} service
 * object also implements this interface): hold a page of a queue's pool outside it, to watch the
 * pool stay detached until the page comes back ({@code pp_hold}); and choose how a restart
 * rebuilds a queue ({@code queue_reset}), for restarts forced with
 * {@link pagepool.api.binding.PoolBindings#restartQueue}.
 */
@ConsumerType
public interface QueueDebug {

    /** How a restart rebuilds a queue, as netdevsim's {@code queue_reset} modes. */
    enum ResetMode {
        /** A new page pool and ring; the queue keeps its NAPI context, which receives until the switch. */
        POOL,
        /**
         * A new NAPI context (a new NAPI id) with the new pool and ring, switched between two polls
         * like {@link #POOL}: nothing is dropped.
         */
        NAPI,
        /** A new NAPI context, the old one stopped before the new one starts: what arrives between is dropped. */
        NAPI_STOPPED_FIRST
    }

    /**
     * Takes one page of the queue's pool and keeps it outside the pool ({@code pp_hold}), so the
     * pool cannot be destroyed until it is released.
     *
     * @return false when the queue has no memory or its pool has no page now
     */
    boolean holdPage(int queue);

    /** Gives every page held for the queue back to its pool; returns how many. */
    int releaseHeldPages(int queue);

    /** Pages held for the queue now. */
    int heldPages(int queue);

    /** How restarts rebuild the device's queues from now on. */
    void resetMode(ResetMode mode);

    ResetMode resetMode();
}

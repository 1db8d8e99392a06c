package pagepool.api.queue;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * How the engine restarts one RX queue onto new memory, Linux's {@code netdev_queue_mgmt_ops}
 * ({@code netdev_rx_queue_restart}): {@link #memAlloc} new memory first, {@link #stop} the
 * queue, {@link #start} it on the new memory, {@link #memFree} the old; if start fails, it starts
 * the queue again on the old memory. A queue drops what arrives while it is stopped. A driver
 * whose NAPI context owns its ring can do better, and says so with {@link #canSwap}: the engine
 * then {@link #swap swaps} a running queue onto the new memory between two polls,
 * make-before-break, and nothing is dropped.
 *
 * <p>The engine calls these methods from one thread at a time per device. The driver creates its
 * pools through {@link pagepool.api.PagePoolFactory} with {@link pagepool.api.PoolParams#queue()}
 * set; the factory picks the memory, and refuses pools for queues of devices the calling bundle
 * has not registered.
 */
@ConsumerType
public interface QueueMgmtOps {

    /**
     * Allocates memory for a queue: its page pools and a filled RX ring ({@code ndo_queue_mem_alloc}).
     * The queue keeps running on its current memory meanwhile.
     *
     * @throws QueueOperationException when the memory cannot be had; nothing changed
     */
    QueueMemory memAlloc(int queue) throws QueueOperationException;

    /** Frees memory no queue runs on ({@code ndo_queue_mem_free}): its pools close and detach. */
    void memFree(QueueMemory memory);

    /**
     * Starts a stopped queue on {@code memory} ({@code ndo_queue_start}).
     *
     * @throws QueueOperationException when the queue could not start; it stays stopped and
     *         {@code memory} still belongs to the caller
     */
    void start(int queue, QueueMemory memory) throws QueueOperationException;

    /**
     * Stops the queue and hands back the memory it ran on ({@code ndo_queue_stop}), or null when
     * it was not running.
     */
    QueueMemory stop(int queue) throws QueueOperationException;

    /**
     * Whether {@link #swap} can switch this queue now: it is running, and the driver can move it
     * to new memory between two NAPI polls. A driver that can only stop and start keeps the
     * default, false.
     */
    default boolean canSwap(int queue) {
        return false;
    }

    /**
     * Make-before-break: switches the running queue to {@code memory} (from {@link #memAlloc}) in
     * one step between two polls, so it is never stopped and drops nothing. The old memory keeps
     * its unused buffers and the pages in flight; the caller frees it with {@link #memFree}.
     *
     * @return the memory the queue ran on
     * @throws QueueOperationException when the queue could not switch; it still runs on its old
     *         memory, and {@code memory} still belongs to the caller
     */
    default QueueMemory swap(int queue, QueueMemory memory) throws QueueOperationException {
        throw new QueueOperationException("queue " + queue + ": this driver cannot swap a queue's memory (expected:"
                + " stop, then start)");
    }
}

package pagepool.api.queue;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A network device with RX queues, registered by its driver as an OSGi service. The engine
 * switches a queue's memory the Linux way ({@code netdev_rx_queue_restart}): {@link #memAlloc}
 * new memory first, {@link #stop} the queue, {@link #start} it on the new memory, {@link #memFree}
 * the old; if start fails, it starts the queue again on the old memory. A queue drops what
 * arrives while it is stopped. A driver whose NAPI context owns its ring can do better, and says
 * so with {@link #canSwap}: the engine then {@link #swap swaps} a running queue onto the new
 * memory between two polls, make-before-break, and nothing is dropped.
 *
 * <p>The engine calls these methods from one thread at a time per device. The driver creates
 * its pools through {@link pagepool.api.PagePoolFactory} with {@link pagepool.api.PoolParams#queue()}
 * set; the factory picks the memory, and refuses pools for queues of devices the calling bundle
 * has not registered.
 *
 * <p>A driver registers its device with every queue stopped and its NAPI contexts ready: the
 * engine brings each queue up as a restart from no memory ({@link #memAlloc}, {@link #stop}
 * returning null, {@link #start}) as soon as a provider can serve it, and takes it down the same
 * way. The engine guards every call into the driver: what a method throws beyond its declared
 * exception is counted against the queue and logged, and the engine goes on.
 */
@ConsumerType
public interface NetDevice {

    /** Service property: the device name. */
    String NAME = "net.device.name";

    String name();

    int rxQueueCount();

    /** Whether the NIC splits headers (host memory) from payload (the queue's memory). */
    boolean headerSplit();

    /**
     * Allocates memory for a queue: its page pools and a filled RX ring ({@code ndo_queue_mem_alloc}).
     * The queue keeps running on its current memory meanwhile.
     *
     * @throws QueueOperationException when the memory cannot be had; nothing changed
     */
    QueueMemory memAlloc(int queue) throws QueueOperationException;

    /**
     * Stops the queue and hands back the memory it ran on ({@code ndo_queue_stop}), or null when
     * it was not running.
     */
    QueueMemory stop(int queue) throws QueueOperationException;

    /**
     * Starts a stopped queue on {@code memory} ({@code ndo_queue_start}).
     *
     * @throws QueueOperationException when the queue could not start; it stays stopped and
     *         {@code memory} still belongs to the caller
     */
    void start(int queue, QueueMemory memory) throws QueueOperationException;

    /** Frees memory no queue runs on ({@code ndo_queue_mem_free}): its pools close and detach. */
    void memFree(QueueMemory memory);

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
        throw new QueueOperationException("device " + name() + " cannot swap a queue's memory (expected: stop, then"
                + " start)");
    }

    /**
     * The driver's counters of one queue, by name ({@code ethtool -S}), e.g. packets, bytes,
     * drops, alloc failures, restarts.
     */
    java.util.Map<String, Long> queueStats(int queue);

    /**
     * Why the queue stopped receiving on its own, or null while it is healthy: its NAPI context met
     * an error it did not expect, counted it and marked the queue failed. The engine polls this
     * and restarts a failed queue; the driver clears the failure when the queue starts again.
     */
    default String queueFault(int queue) {
        return null;
    }

    /**
     * Whether the device is administratively up ({@code ip link set up}). The engine polls it:
     * when the device goes down, the engine stops every queue and frees its memory (each pool is
     * destroyed, or detached while consumers still hold pages); when it comes up, the engine starts
     * every queue on new memory. Bindings and restarts asked for meanwhile apply at up.
     */
    default boolean adminUp() {
        return true;
    }

    /**
     * Sets the administrative state ({@code ip link set up|down}); the engine applies it.
     *
     * @throws IllegalStateException when the device has no administrative state to set
     */
    default void setAdminUp(boolean up) {
        throw new IllegalStateException("device " + name() + " cannot be set " + (up ? "up" : "down"));
    }

    /**
     * What else an operator should know of the device, shown by {@code pp:devices}: e.g. the
     * address it receives on and how ({@code path=io_uring}).
     */
    default java.util.Map<String, Object> details() {
        return java.util.Map.of();
    }

    /** Whether the link is up: packets arrive only with carrier. */
    boolean carrier();

    /** Brings the link up or down ({@code ip link set up/down}); queues and memory stay. */
    void setCarrier(boolean up);
}

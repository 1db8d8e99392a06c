package pagepool.api.queue;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A network device with RX queues, registered by its driver as an OSGi service: its name, its
 * queues' count, its administrative and link state and its statistics, as Linux's
 * {@code net_device} with {@code net_device_ops}. What restarts a queue onto new memory is apart,
 * in {@link #queueOps()}, as Linux keeps {@code netdev_queue_mgmt_ops} apart: a driver that
 * cannot restart queues has no business with the page pool's memory providers.
 *
 * <p>A driver registers its device with every queue stopped and its NAPI contexts ready: the
 * engine brings each queue up as a restart from no memory as soon as a provider can serve it,
 * and takes it down the same way. The engine guards every call into the driver: what a method
 * throws beyond its declared exception is counted against the device or queue and logged, and
 * the engine goes on.
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
     * The queue-management ops ({@code dev->queue_mgmt_ops}), read once when the engine takes the
     * device; a device without them (null) is not taken.
     */
    QueueMgmtOps queueOps();

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

package pagepool.engine;

import pagepool.api.Checks;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueMgmtOps;

/**
 * A registered network device: its fixed properties and queue-management ops, read once when it arrives, the bundle that
 * registered it (-1: none), and whether the engine has it up (its queues started) or down.
 */
final class Device {

    final NetDevice dev;
    /** Its queue-management ops, read once: how the engine restarts its queues. */
    final QueueMgmtOps ops;
    final String name;
    final int queueCount;
    final boolean headerSplit;
    final long bundleId;
    /** Whether its queues may run; changed first when the device goes down or up. */
    volatile boolean enabled;
    /** Whether it is up as reported: changed last, once the queues are started or stopped. */
    volatile boolean up;
    /**
     * Its driver has not answered a health check within the budget: not asked again until it does
     * (a new question each {@code health.millis} would strand a thread each). Engine thread only.
     */
    boolean healthOwed;
    /**
     * Unregistered: its driver is not called again. Work that outlived it (a thread back from a
     * late plugin call, finishing a loop over its queues) sees this. Engine thread only.
     */
    boolean gone;
    /**
     * Its counters as the engine reads them (a restart's drops, for JFR), within 250 ms: a read
     * from the engine thread must not wait longer, and a driver owing one is not asked again.
     */
    final BoundedRead statsReads = new BoundedRead(250);

    Device(NetDevice dev, QueueMgmtOps ops, String name, int queueCount, boolean headerSplit, long bundleId,
            boolean up) {
        this.dev = dev;
        this.ops = ops;
        this.name = name;
        this.queueCount = queueCount;
        this.headerSplit = headerSplit;
        this.bundleId = bundleId;
        this.enabled = up;
        this.up = up;
    }

    /** A service's bundle as the engine keys owners: its id, or -1 outside a framework. */
    static long bundleId(org.osgi.framework.Bundle b) {
        return b == null ? -1 : b.getBundleId();
    }

    /** The driver's administrative state; a driver that cannot say is up. */
    static boolean adminUp(NetDevice dev) {
        try {
            return dev.adminUp();
        } catch (Throwable t) {
            System.getLogger(Device.class.getName()).log(System.Logger.Level.WARNING, "adminUp of " + dev + " failed: "
                    + Faults.describe("adminUp", t));
            return true;
        }
    }

    /** @throws IllegalArgumentException unless {@code queue} is one of this device's */
    void checkQueue(int queue) {
        if (queue < 0 || queue >= queueCount) {
            throw Checks.invalid("queue", queue, "0.." + (queueCount - 1) + " on " + name);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}

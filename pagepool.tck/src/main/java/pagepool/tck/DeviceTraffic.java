package pagepool.tck;

import pagepool.api.queue.NetDevice;

/** What both driver kits ask of a driver's subject about traffic: how to send it, and its counters. */
public interface DeviceTraffic {

    /**
     * Sends {@code count} packets to the device, returning how many left the sender, or -1 when
     * the kit cannot send to it (a device that makes its own traffic): the promises that need
     * traffic are then skipped.
     */
    default long send(NetDevice device, long count) throws Exception {
        return -1;
    }

    /** The queue counter of packets received. */
    default String received() {
        return "packets";
    }

    /** The queue counter of packets the device dropped, every cause together. */
    default String dropped() {
        return "drops";
    }

    /**
     * Packets dropped before any queue saw them (a NIC's {@code rx_missed}), all queues together:
     * accounting is then sent = received + dropped + missed.
     */
    default long missed(NetDevice device) {
        return 0;
    }
}

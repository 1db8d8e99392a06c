package pagepool.api.control;

import pagepool.api.QueueId;

/**
 * A queue's traffic over one sampling interval, from its driver's counters, divided by the time the
 * runtime measured between the two samples (never by when a client happened to ask).
 *
 * @param queue the queue
 * @param provider the provider it ran on at the sample
 * @param packetsPerSecond packets received
 * @param dropsPerSecond packets dropped
 * @param iotlbMissesPerPacket simulated IOTLB misses per packet, or -1 where the driver counts none
 */
public record QueueRate(QueueId queue, String provider, double packetsPerSecond, double dropsPerSecond,
        double iotlbMissesPerPacket) {
}

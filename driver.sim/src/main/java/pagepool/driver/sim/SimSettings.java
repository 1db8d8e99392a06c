package pagepool.driver.sim;

/**
 * How a simulated device is built and what traffic it receives.
 *
 * @param name device name
 * @param rxQueues number of RX queues
 * @param ringSize RX descriptors per queue
 * @param headerSplit headers to host memory, payload to the queue's memory
 * @param packetSizeMin smallest packet, header included
 * @param packetSizeMax largest packet, header included (uniformly distributed in between)
 * @param ratePps offered packets per second per queue; 0 for as fast as the queue goes
 * @param socketFraction share of packets handed to socket threads (released from there, the
 *        ring path); the rest is consumed in NAPI and recycled directly
 * @param holdMicros how long socket threads hold a page before they release it
 * @param consumerThreads socket threads of the device
 * @param dmaMaskBits addresses the NIC can reach: a buffer above 2^bits fails the queue start
 * @param traffic whether traffic flows from the start
 * @param iotlbEntries entries of each queue's IOTLB
 * @param iotlbWays its associativity
 */
public record SimSettings(String name, int rxQueues, int ringSize, boolean headerSplit, int packetSizeMin,
        int packetSizeMax, long ratePps, double socketFraction, long holdMicros, int consumerThreads, int dmaMaskBits,
        boolean traffic, int iotlbEntries, int iotlbWays) {

    public static final int MAX_QUEUES = 64;

    public SimSettings {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name: '" + name + "' (expected: a device name)");
        }
        if (rxQueues < 1 || rxQueues > MAX_QUEUES) {
            throw new IllegalArgumentException("rx_queues: " + rxQueues + " (expected: 1.." + MAX_QUEUES + ")");
        }
        if (ringSize < 16 || ringSize > 16384 || Integer.bitCount(ringSize) != 1) {
            throw new IllegalArgumentException("ring_size: " + ringSize + " (expected: a power of 2 in 16..16384)");
        }
        if (packetSizeMin < Packet.MIN_SIZE || packetSizeMax > Packet.MAX_SIZE || packetSizeMin > packetSizeMax) {
            throw new IllegalArgumentException("packet sizes: " + packetSizeMin + ".." + packetSizeMax + " (expected: "
                    + Packet.MIN_SIZE + " <= min <= max <= " + Packet.MAX_SIZE + ")");
        }
        if (ratePps < 0) {
            throw new IllegalArgumentException("rate_pps: " + ratePps + " (expected: >= 0, 0 for unbounded)");
        }
        if (!(socketFraction >= 0 && socketFraction <= 1)) {
            throw new IllegalArgumentException("socket_fraction: " + socketFraction + " (expected: 0..1)");
        }
        if (holdMicros < 0) {
            throw new IllegalArgumentException("hold_micros: " + holdMicros + " (expected: >= 0)");
        }
        if (consumerThreads < 1 || consumerThreads > 16) {
            throw new IllegalArgumentException("consumer_threads: " + consumerThreads + " (expected: 1..16)");
        }
        if (dmaMaskBits < 32 || dmaMaskBits > 64) {
            throw new IllegalArgumentException("dma_mask_bits: " + dmaMaskBits + " (expected: 32..64)");
        }
        new Iotlb(iotlbEntries, iotlbWays); // checks the geometry
    }

    /** sim0-like defaults for tests: 4 queues, 256-entry rings, 1500-byte packets, 20k pps. */
    public static SimSettings defaults(String name) {
        return new SimSettings(name, 4, 256, false, 1500, 1500, 20_000, 0.5, 50, 1, 48, true, 64, 4);
    }

    public SimSettings withQueues(int n) {
        return new SimSettings(name, n, ringSize, headerSplit, packetSizeMin, packetSizeMax, ratePps, socketFraction,
                holdMicros, consumerThreads, dmaMaskBits, traffic, iotlbEntries, iotlbWays);
    }

    public SimSettings withRate(long pps) {
        return new SimSettings(name, rxQueues, ringSize, headerSplit, packetSizeMin, packetSizeMax, pps, socketFraction,
                holdMicros, consumerThreads, dmaMaskBits, traffic, iotlbEntries, iotlbWays);
    }

    public SimSettings withHeaderSplit(boolean on) {
        return new SimSettings(name, rxQueues, ringSize, on, packetSizeMin, packetSizeMax, ratePps, socketFraction,
                holdMicros, consumerThreads, dmaMaskBits, traffic, iotlbEntries, iotlbWays);
    }

    public SimSettings withConsumers(double socketShare, long hold) {
        return new SimSettings(name, rxQueues, ringSize, headerSplit, packetSizeMin, packetSizeMax, ratePps,
                socketShare, hold, consumerThreads, dmaMaskBits, traffic, iotlbEntries, iotlbWays);
    }

    public SimSettings withTraffic(boolean on) {
        return new SimSettings(name, rxQueues, ringSize, headerSplit, packetSizeMin, packetSizeMax, ratePps,
                socketFraction, holdMicros, consumerThreads, dmaMaskBits, on, iotlbEntries, iotlbWays);
    }
}

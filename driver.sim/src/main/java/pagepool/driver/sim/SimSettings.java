package pagepool.driver.sim;

import pagepool.kit.driver.DeviceConfig;
import pagepool.kit.driver.DeviceSettingsBuilder;
import pagepool.kit.driver.SettingsCheck;

/**
 * How a simulated device is built and what traffic it receives. Made with {@link #builder(String)}
 * (defaults like the runtime's sim0) or from a configuration by {@code SimDeviceComponent}.
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
 * @param socketBackpressure when a socket's backlog is full, the sender holds back (as a TCP
 *        receive window makes it) and NAPI leaves the packets on the wire, counted as
 *        {@code backpressure}; false: the stack drops them (as for UDP), counted as
 *        {@code drops-backlog}
 * @param consumerThreads socket threads of the device
 * @param napiThreads NAPI threads the queues share (queue i is served by thread i mod n); 0 for
 *        one per queue up to the number of cores
 * @param dmaMaskBits addresses the NIC can reach: a buffer above 2^bits fails the queue start
 * @param traffic whether the link has carrier (traffic flows) from the start
 * @param up whether the device is administratively up ({@code ip link set up}) from the start
 * @param iotlbEntries entries of each queue's IOTLB
 * @param iotlbWays its associativity
 */
public record SimSettings(String name, int rxQueues, int ringSize, boolean headerSplit, int packetSizeMin,
        int packetSizeMax, long ratePps, double socketFraction, long holdMicros, boolean socketBackpressure,
        int consumerThreads, int napiThreads,
        int dmaMaskBits, boolean traffic, boolean up, int iotlbEntries, int iotlbWays) implements DeviceConfig.Settings {

    /**
     * The bytes of pages these settings commit: every queue's ring of 4 KiB buffers, and as many
     * header buffers with header split. Reserved against the engine's memory budget before the
     * device is built.
     */
    public long committedBytes() {
        return (long) rxQueues * ringSize * 4096L * (headerSplit ? 2 : 1);
    }

    /** The most RX queues a simulated device has; each has a ring and pools of its own. */
    public static final int MAX_QUEUES = 1024;

    public SimSettings {
        SettingsCheck check = new SettingsCheck().deviceName("name", name)
                .range("rx.queues", rxQueues, 1, MAX_QUEUES)
                .powerOfTwo("ring.size", ringSize, 16, 16384)
                .range("packet.size.min", packetSizeMin, Packet.MIN_SIZE, Packet.MAX_SIZE)
                .range("packet.size.max", packetSizeMax, Packet.MIN_SIZE, Packet.MAX_SIZE)
                .that(packetSizeMin <= packetSizeMax, "packet.size.min", packetSizeMin,
                        "at most packet.size.max " + packetSizeMax)
                .range("rate.pps", ratePps, 0, MAX_RATE_PPS)
                .range("socket.fraction", socketFraction, 0, 1)
                .range("hold.micros", holdMicros, 0, 60_000_000L)
                .range("consumer.threads", consumerThreads, 1, 16)
                .range("napi.threads", napiThreads, 0, MAX_QUEUES)
                .range("dma.mask.bits", dmaMaskBits, 32, 64)
                .range("iotlb.entries", iotlbEntries, 1, 1 << 20)
                .range("iotlb.ways", iotlbWays, 1, 1 << 20);
        if (check.ok()) {
            check.that(iotlbEntries % iotlbWays == 0 && Integer.bitCount(iotlbEntries / iotlbWays) == 1, "iotlb.ways",
                    iotlbWays, "a divisor of iotlb.entries " + iotlbEntries + " that leaves a power-of-2 number of sets");
        }
        check.done();
    }

    /** The highest offered rate per queue; 0 is unbounded. */
    public static final long MAX_RATE_PPS = 100_000_000L;

    /** NAPI threads this device runs: as configured, never more than its queues. */
    public int napiThreadCount() {
        int n = napiThreads > 0 ? napiThreads : Runtime.getRuntime().availableProcessors();
        return Math.max(1, Math.min(n, rxQueues));
    }

    /** A builder with the runtime's sim0 defaults: 4 queues, 1024-entry rings, 10k pps of 1500 bytes. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** A builder holding these settings, to change some. */
    public Builder toBuilder() {
        return new Builder(name).rxQueues(rxQueues).ringSize(ringSize).headerSplit(headerSplit)
                .packetSizes(packetSizeMin, packetSizeMax).ratePps(ratePps).socketFraction(socketFraction)
                .holdMicros(holdMicros).socketBackpressure(socketBackpressure).consumerThreads(consumerThreads)
                .napiThreads(napiThreads).dmaMaskBits(dmaMaskBits).traffic(traffic).up(up).iotlb(iotlbEntries, iotlbWays);
    }

    /** Builds {@link SimSettings}; every value is checked in {@link #build()}. */
    public static final class Builder extends DeviceSettingsBuilder<Builder> {
        private boolean headerSplit;
        private int packetSizeMin = 1500;
        private int packetSizeMax = 1500;
        private long ratePps = 10_000;
        private double socketFraction = 0.5;
        private long holdMicros = 200;
        private boolean socketBackpressure = true;
        private int consumerThreads = 1;
        private int napiThreads;
        private int dmaMaskBits = 48;
        private boolean traffic = true;
        private int iotlbEntries = 64;
        private int iotlbWays = 4;

        private Builder(String name) {
            super(name, 4, 1024);
        }

        public Builder headerSplit(boolean on) {
            this.headerSplit = on;
            return this;
        }

        public Builder packetSizes(int min, int max) {
            this.packetSizeMin = min;
            this.packetSizeMax = max;
            return this;
        }

        public Builder ratePps(long pps) {
            this.ratePps = pps;
            return this;
        }

        public Builder socketFraction(double share) {
            this.socketFraction = share;
            return this;
        }

        public Builder holdMicros(long micros) {
            this.holdMicros = micros;
            return this;
        }

        public Builder socketBackpressure(boolean on) {
            this.socketBackpressure = on;
            return this;
        }

        public Builder consumerThreads(int n) {
            this.consumerThreads = n;
            return this;
        }

        public Builder napiThreads(int n) {
            this.napiThreads = n;
            return this;
        }

        public Builder dmaMaskBits(int bits) {
            this.dmaMaskBits = bits;
            return this;
        }

        public Builder traffic(boolean on) {
            this.traffic = on;
            return this;
        }

        public Builder iotlb(int entries, int ways) {
            this.iotlbEntries = entries;
            this.iotlbWays = ways;
            return this;
        }

        /** @throws IllegalArgumentException naming the first bad value and what was expected */
        public SimSettings build() {
            return new SimSettings(name, rxQueues, ringSize, headerSplit, packetSizeMin, packetSizeMax, ratePps,
                    socketFraction, holdMicros, socketBackpressure, consumerThreads, napiThreads, dmaMaskBits, traffic, up,
                    iotlbEntries, iotlbWays);
        }
    }
}

package pagepool.driver.uring;

import pagepool.kit.driver.DeviceConfig;
import pagepool.kit.driver.DeviceSettingsBuilder;
import pagepool.kit.driver.SettingsCheck;

/**
 * How a UDP device is built: where it receives, how many queues (sockets sharing the address with
 * {@code SO_REUSEPORT}, which the kernel spreads flows over as RSS spreads them over NIC queues),
 * and each queue's RX memory. Made with {@link #builder(String)}.
 *
 * @param name device name
 * @param address the IPv4 address to bind, big-endian in an int
 * @param port the UDP port; 0 for one the kernel picks (the device says which)
 * @param rxQueues sockets, each with its ring and thread
 * @param ringSize buffers in each queue's provided-buffer ring (recvmmsg: at most 256 per call)
 * @param pageOrder the pool's page size, 4 KiB << order: the largest datagram a buffer takes
 * @param rcvbufBytes each socket's receive buffer ({@code SO_RCVBUFFORCE}); 0 for the kernel's default
 * @param ioUring false to receive with {@code recvmmsg} even where io_uring works
 * @param coalesceMicros interrupt moderation ({@code ethtool -C rx-usecs}): with io_uring, a queue's
 *        thread wakes for a batch of datagrams or after this long, not for each; 0 wakes for each
 * @param adaptiveRx adaptive interrupt moderation ({@code ethtool -C adaptive-rx on}, Linux's
 *        {@code net_dim}): with io_uring, the wait is chosen from the datagrams' rate
 *        ({@code Moderation}); {@code coalesceMicros} must then be 0
 * @param gro UDP GRO ({@code UDP_GRO}): the kernel may put several datagrams of one flow in one
 *        buffer (up to 64 KiB, so page.order 4), each delivered on its own; io_uring only
 * @param up whether the device is administratively up from the start
 */
public record UringSettings(String name, int address, int port, int rxQueues, int ringSize, int pageOrder,
        int rcvbufBytes, boolean ioUring, int coalesceMicros, boolean adaptiveRx, boolean gro, boolean up)
        implements DeviceConfig.Settings {

    /** The bytes of pages these settings commit: every queue's ring of buffers of its page size. */
    public long committedBytes() {
        return (long) rxQueues * ringSize * (4096L << pageOrder);
    }

    /** The most queues a device has: a thread, a socket and a ring each. */
    public static final int MAX_QUEUES = 64;
    /** No fixed interrupt moderation by default. */
    public static final int DEFAULT_COALESCE_MICROS = 0;
    /** Adaptive moderation by default: ./bench udp-rates shows what it saves and what it delays. */
    public static final boolean DEFAULT_ADAPTIVE_RX = false;
    /**
     * Buffers per ring by default. Few: the kernel takes buffers in ring order, so each comes back
     * after all the others; 256 pages of 4 KiB stay in the CPU's caches, 4096 do not (./bench udp).
     */
    public static final int DEFAULT_RING = 256;
    /** The most buffers in a queue's ring. */
    public static final int MAX_RING = 16384;

    public UringSettings {
        new SettingsCheck().deviceName("name", name)
                .range("port", port, 0, 65535)
                .range("rx.queues", rxQueues, 1, MAX_QUEUES)
                .powerOfTwo("ring.size", ringSize, 16, MAX_RING)
                .range("page.order", pageOrder, 0, GRO_PAGE_ORDER)
                .range("rcvbuf.bytes", rcvbufBytes, 0, 1 << 30)
                .range("coalesce.usecs", coalesceMicros, 0, MAX_COALESCE_MICROS)
                .that(!adaptiveRx || coalesceMicros == 0, "coalesce.usecs", coalesceMicros,
                        "0 with adaptive.rx: the adaptive policy sets the wait")
                .that(!gro || pageOrder == GRO_PAGE_ORDER, "page.order", pageOrder, GRO_PAGE_ORDER
                        + " with gro: a coalesced buffer holds up to 64 KiB")
                .done();
    }

    /** The same settings but the administrative state: what a device changes in place. */
    UringSettings withUp(boolean on) {
        return new UringSettings(name, address, port, rxQueues, ringSize, pageOrder, rcvbufBytes, ioUring, coalesceMicros,
                adaptiveRx, gro, on);
    }

    /** Buffers of 64 KiB: what a GRO buffer may hold. */
    public static final int GRO_PAGE_ORDER = 4;

    /** The longest a queue waits to fill a batch. */
    public static final int MAX_COALESCE_MICROS = 10_000;

    /**
     * A builder with the defaults: 127.0.0.1, a port the kernel picks, 1 queue, 256 buffers of
     * 4 KiB, io_uring, no interrupt moderation.
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    int pageSize() {
        return 4096 << pageOrder;
    }

    /** Builds {@link UringSettings}; every value is checked in {@link #build()}. */
    public static final class Builder extends DeviceSettingsBuilder<Builder> {
        private int address = 0x7f000001;
        private int port;
        private int pageOrder;
        private int rcvbufBytes;
        private boolean ioUring = true;
        private int coalesceMicros = DEFAULT_COALESCE_MICROS;
        private boolean adaptiveRx = DEFAULT_ADAPTIVE_RX;
        private boolean gro;

        private Builder(String name) {
            super(name, 1, DEFAULT_RING);
        }

        /** @throws IllegalArgumentException when it is not an IPv4 address */
        public Builder bind(String address, int port) {
            this.address = Net.ipv4(address, "bind.address");
            this.port = port;
            return this;
        }

        public Builder pageOrder(int order) {
            this.pageOrder = order;
            return this;
        }

        public Builder rcvbufBytes(int bytes) {
            this.rcvbufBytes = bytes;
            return this;
        }

        public Builder ioUring(boolean on) {
            this.ioUring = on;
            return this;
        }

        public Builder coalesceMicros(int micros) {
            this.coalesceMicros = micros;
            return this;
        }

        public Builder adaptiveRx(boolean on) {
            this.adaptiveRx = on;
            return this;
        }

        public Builder gro(boolean on) {
            this.gro = on;
            return this;
        }

        public UringSettings build() {
            return new UringSettings(name, address, port, rxQueues, ringSize, pageOrder, rcvbufBytes, ioUring, coalesceMicros,
                    adaptiveRx, gro, up);
        }
    }
}

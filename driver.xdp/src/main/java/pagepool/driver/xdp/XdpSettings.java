package pagepool.driver.xdp;

import java.util.List;

import pagepool.kit.driver.DeviceConfig;
import pagepool.kit.driver.DeviceSettingsBuilder;
import pagepool.kit.driver.SettingsCheck;

/**
 * How an AF_XDP device is built: the Linux interface it receives from, how many of its RX queues
 * (one AF_XDP socket each, from queue 0 up), the UDP ports it takes off the interface (the rest
 * goes on to the kernel's stack), and each queue's memory: its UMEM of {@code umemFrames} pages
 * carved from the queue's page pool, and its ring sizes. Made with {@link #builder(String)}.
 *
 * @param name device name
 * @param ifname the interface, e.g. {@code eth0}
 * @param rxQueues RX queues taken, each an AF_XDP socket and a thread: at most the interface's
 * @param ports the UDP destination ports steered to the sockets, 1 to {@link XdpProgram#MAX_PORTS}
 * @param ringSize entries of each queue's fill ring and of its RX ring
 * @param umemFrames pages of each queue's UMEM (4 KiB frames): the pool's contiguous memory, at
 *        least twice the ring, so a full fill ring and a full RX ring still leave frames for consumers
 * @param mode {@code native} (XDP in the driver, on frames before any skb) or {@code generic}
 *        (after the kernel built an skb: any interface, slower)
 * @param zeroCopy ask for zero-copy (the NIC writes into the UMEM); where the driver has none the
 *        socket runs in copy mode and the device says so
 * @param up whether the device is administratively up from the start
 */
public record XdpSettings(String name, String ifname, int rxQueues, List<Integer> ports, int ringSize, int umemFrames,
        String mode, boolean zeroCopy, boolean up) implements DeviceConfig.Settings {

    /** The frame of a UMEM: one page of the pool. */
    public static final int FRAME = 4096;
    public static final int MAX_QUEUES = 64;
    /** A fill ring of 4,096 ran empty (13,550 drops in 1 M frames) when the receiver was descheduled; 8,192 did not. */
    public static final int DEFAULT_RING = 8192;
    public static final int MAX_RING = 32768;
    public static final int DEFAULT_UMEM_FRAMES = 2 * DEFAULT_RING;
    public static final List<String> MODES = List.of("native", "generic");

    public XdpSettings {
        ports = List.copyOf(ports);
        SettingsCheck c = new SettingsCheck().deviceName("name", name)
                .that(ifname != null && !ifname.isEmpty() && ifname.length() < 16 && ifname.indexOf('/') < 0
                        && !ifname.isBlank(), "interface", ifname, "an interface name of 1 to 15 characters")
                .range("rx.queues", rxQueues, 1, MAX_QUEUES)
                .that(!ports.isEmpty() && ports.size() <= XdpProgram.MAX_PORTS, "ports", ports, "1 to "
                        + XdpProgram.MAX_PORTS + " UDP ports")
                .powerOfTwo("ring.size", ringSize, 64, MAX_RING)
                .range("umem.frames", umemFrames, 2L * ringSize, 1 << 20)
                .that(MODES.contains(mode), "mode", mode, "one of " + MODES);
        for (int p : ports) {
            c.range("ports", p, 1, 65535);
        }
        c.that(ports.stream().distinct().count() == ports.size(), "ports", ports, "each port once");
        c.done();
    }

    /** The bytes of pages these settings commit: every queue's UMEM. */
    @Override
    public long committedBytes() {
        return (long) rxQueues * umemFrames * FRAME;
    }

    XdpSettings withUp(boolean on) {
        return new XdpSettings(name, ifname, rxQueues, ports, ringSize, umemFrames, mode, zeroCopy, on);
    }

    boolean nativeMode() {
        return mode.equals("native");
    }

    /** A builder with the defaults: 1 queue, port 9000, rings of 8,192, a UMEM of 16,384 frames, native mode. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Builds {@link XdpSettings}; every value is checked in {@link #build()}. */
    public static final class Builder extends DeviceSettingsBuilder<Builder> {
        private String ifname = "eth0";
        private List<Integer> ports = List.of(9000);
        private int umemFrames = DEFAULT_UMEM_FRAMES;
        private String mode = "native";
        private boolean zeroCopy = true;

        private Builder(String name) {
            super(name, 1, DEFAULT_RING);
        }

        public Builder ifname(String name) {
            this.ifname = name;
            return this;
        }

        public Builder ports(List<Integer> p) {
            this.ports = p;
            return this;
        }

        public Builder umemFrames(int frames) {
            this.umemFrames = frames;
            return this;
        }

        public Builder mode(String m) {
            this.mode = m;
            return this;
        }

        public Builder zeroCopy(boolean on) {
            this.zeroCopy = on;
            return this;
        }

        public XdpSettings build() {
            return new XdpSettings(name, ifname, rxQueues, ports, ringSize, umemFrames, mode, zeroCopy, up);
        }
    }
}

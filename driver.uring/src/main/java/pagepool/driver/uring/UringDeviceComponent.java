package pagepool.driver.uring;

import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.Checks;
import pagepool.api.PagePoolFactory;
import pagepool.api.datagram.DatagramConsumer;
import pagepool.kit.config.ConfigValues;
import pagepool.kit.driver.DatagramDeviceComponent;

/**
 * One UDP device per factory configuration of {@value #PID} ({@code load/pagepool.uring.device-<name>.cfg}).
 * The configuration is checked before anything is built, and the sockets are bound before the
 * device is registered: a bad value or an address in use is refused with one line naming it,
 * listed as a configuration problem, and the device, if any, keeps running with its last good
 * settings. Editing the configuration rebuilds the device (the administrative state alone changes
 * in place). Datagrams go to the best-ranked {@link DatagramConsumer} for the device.
 */
@Component(configurationPid = UringDeviceComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {}, immediate = true)
@Designate(ocd = UringDeviceComponent.Config.class, factory = true)
public final class UringDeviceComponent
        extends DatagramDeviceComponent<UringDeviceComponent.Config, UringSettings, UringDevice> {

    static final String PID = "pagepool.uring.device";

    @ObjectClassDefinition(name = "pagepool UDP device", description = "Real UDP datagrams received into pool pages"
            + " through io_uring provided-buffer rings (recvmmsg where io_uring is unavailable)")
    public @interface Config {
        @AttributeDefinition(description = "Device name")
        String name() default "udp0";

        @AttributeDefinition(description = "IPv4 address to receive on")
        String bind_address() default "127.0.0.1";

        @AttributeDefinition(description = "UDP port; 0 for one the kernel picks (pp:devices shows it)")
        int port() default 9000;

        @AttributeDefinition(description = "RX queues: sockets sharing the port with SO_REUSEPORT")
        int rx_queues() default 2;

        @AttributeDefinition(description = "Buffers in each queue's ring (power of 2)")
        int ring_size() default UringSettings.DEFAULT_RING;

        @AttributeDefinition(description = "Buffer size, 4096 << page.order bytes: the largest datagram a buffer takes")
        int page_order() default 0;

        @AttributeDefinition(description = "Each socket's receive buffer in bytes; 0 for the kernel's default")
        int rcvbuf_bytes() default 4 << 20;

        @AttributeDefinition(description = "Receive through io_uring where it works; false forces recvmmsg")
        boolean io_uring() default true;

        @AttributeDefinition(description = "Interrupt moderation (ethtool -C rx-usecs): a queue wakes for a batch of"
                + " datagrams or after this many microseconds; 0 wakes it for each datagram (io_uring only)")
        int coalesce_usecs() default UringSettings.DEFAULT_COALESCE_MICROS;

        @AttributeDefinition(description = "Adaptive interrupt moderation (ethtool -C adaptive-rx, Linux's net_dim): the"
                + " wait for a batch follows the datagrams' rate; coalesce.usecs must then be 0 (io_uring only)")
        boolean adaptive_rx() default UringSettings.DEFAULT_ADAPTIVE_RX;

        @AttributeDefinition(description = "UDP GRO: several datagrams of a flow in one 64 KiB buffer (needs"
                + " page.order 4; io_uring only)")
        boolean gro() default false;

        @AttributeDefinition(description = "Administratively up (pp:link up|down): down frees the rings")
        boolean up() default true;
    }

    @Activate
    public UringDeviceComponent(Map<String, Object> props, BundleContext context, @Reference PagePoolFactory pools,
            @Reference UringDeviceNames names) {
        super(Config.class, props, context, pools, names);
        activate(props);
    }

    /** Another device receiving on the address and port: the kernel would split the traffic between them unseen. */
    @Override
    public String conflict(UringSettings s) {
        String sharer = sharerOf(s);
        return sharer == null ? null : Checks.message("port", s.port(), "a port no other device receives on: " + sharer
                + " receives on " + Net.text(s.address()) + ":" + s.port());
    }

    /** The administrative state changes in place; everything else rebuilds the device. */
    @Override
    public boolean changeInPlace(UringDevice d, UringSettings old, UringSettings s) {
        return adminStateInPlace(d, s.withUp(old.up()).equals(old), s.up());
    }

    @Override
    public UringDevice build(UringSettings s) {
        return withConsumer(new UringDevice(s, pools()));
    }

    /** The old sockets let go of the address before the new ones bind it. */
    @Override
    public boolean buildBeforeTearDown() {
        return false;
    }

    /**
     * The other device of this driver receiving on the same address and port, or null. The
     * kernel would let two devices share it (both SO_REUSEPORT, same user) and split the traffic
     * between them unseen.
     */
    private String sharerOf(UringSettings s) {
        if (s.port() == 0) {
            return null;
        }
        String address = Net.text(s.address()) + ":" + s.port();
        return otherDevice(s, d -> d instanceof UringDevice u && address.equals(String.valueOf(u.details().get("address"))));
    }

    /** Checked settings, or null with the problems in {@code v}; the ranges are {@link UringSettings}'s. */
    @Override
    public UringSettings settings(Config c, ConfigValues v) {
        v.noUnknownKeys(Config.class);
        String name = v.deviceName("name", c::name);
        String address = v.text("bind.address", c::bind_address);
        int port = v.integer("port", c::port);
        int queues = v.integer("rx.queues", c::rx_queues);
        int ring = v.integer("ring.size", c::ring_size);
        int order = v.integer("page.order", c::page_order);
        int rcvbuf = v.integer("rcvbuf.bytes", c::rcvbuf_bytes);
        boolean ioUring = v.bool("io.uring", c::io_uring);
        int coalesce = v.integer("coalesce.usecs", c::coalesce_usecs);
        boolean adaptive = v.bool("adaptive.rx", c::adaptive_rx);
        boolean gro = v.bool("gro", c::gro);
        boolean up = v.bool("up", c::up);
        if (!v.ok()) {
            return null;
        }
        try {
            return UringSettings.builder(name).bind(address, port).rxQueues(queues).ringSize(ring).pageOrder(order)
                    .rcvbufBytes(rcvbuf).ioUring(ioUring).coalesceMicros(coalesce).adaptiveRx(adaptive).gro(gro).up(up).build();
        } catch (IllegalArgumentException e) {
            v.problem(e.getMessage());
            return null;
        }
    }
}

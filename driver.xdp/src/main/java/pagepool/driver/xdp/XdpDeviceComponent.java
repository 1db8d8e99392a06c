package pagepool.driver.xdp;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

import pagepool.api.Checks;
import pagepool.api.PagePoolFactory;
import pagepool.api.datagram.DatagramConsumer;
import pagepool.kit.config.ConfigValues;
import pagepool.kit.driver.DatagramDeviceComponent;

/**
 * One AF_XDP device per factory configuration of {@value #PID} ({@code load/pagepool.xdp.device-<name>.cfg}).
 * The configuration is checked before anything is built and the program is attached before the
 * device is registered: a bad value, a missing interface, a missing privilege or an interface
 * another program holds is refused with one line naming it, listed as a configuration problem,
 * and the device, if any, keeps running with its last good settings. Editing the configuration
 * rebuilds the device (the administrative state alone changes in place). Datagrams go to the
 * best-ranked {@link DatagramConsumer} for the device.
 */
@Component(configurationPid = XdpDeviceComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {}, immediate = true)
@Designate(ocd = XdpDeviceComponent.Config.class, factory = true)
public final class XdpDeviceComponent
        extends DatagramDeviceComponent<XdpDeviceComponent.Config, XdpSettings, XdpDevice> {

    static final String PID = "pagepool.xdp.device";

    @ObjectClassDefinition(name = "pagepool AF_XDP device", description = "Frames of a Linux interface received"
            + " into pool pages through AF_XDP sockets whose UMEM is the queue's page pool")
    public @interface Config {
        @AttributeDefinition(description = "Device name")
        String name() default "xdp0";

        @AttributeDefinition(description = "The Linux interface to receive from (ip link lists them)")
        String interface$() default "eth0";

        @AttributeDefinition(description = "RX queues taken, from queue 0: an AF_XDP socket and a thread each")
        int rx_queues() default 1;

        @AttributeDefinition(description = "UDP destination ports steered to the sockets, separated by commas (IPv4"
                + " and IPv6); the rest goes to the kernel's stack")
        String ports() default "9000";

        @AttributeDefinition(description = "Entries of each queue's fill ring and RX ring (power of 2)")
        int ring_size() default XdpSettings.DEFAULT_RING;

        @AttributeDefinition(description = "Pages of each queue's UMEM, carved from its pool as one contiguous range"
                + " (at least twice ring.size)")
        int umem_frames() default XdpSettings.DEFAULT_UMEM_FRAMES;

        @AttributeDefinition(description = "Where the program runs: native (in the NIC driver) or generic (any"
                + " interface, after an skb is built)", options = {@Option(label = "native", value = "native"),
                    @Option(label = "generic", value = "generic")})
        String mode() default "native";

        @AttributeDefinition(description = "Zero-copy where the NIC driver offers it (the NIC writes into the pool's"
                + " pages); copy mode otherwise")
        boolean zero_copy() default true;

        @AttributeDefinition(description = "Administratively up (pp:link up|down): down frees the rings")
        boolean up() default true;
    }

    @Activate
    public XdpDeviceComponent(Map<String, Object> props, BundleContext context, @Reference PagePoolFactory pools,
            @Reference XdpDeviceNames names) {
        super(Config.class, props, context, pools, names);
        activate(props);
    }

    /** Another device of this bundle on the interface: the interface takes one XDP program. */
    @Override
    public String conflict(XdpSettings s) {
        String holder = holderOf(s);
        return holder == null ? null : Checks.message("interface", s.ifname(), "an interface no other device"
                + " receives from: " + holder + " does");
    }

    @Override
    public boolean changeInPlace(XdpDevice d, XdpSettings old, XdpSettings s) {
        return adminStateInPlace(d, s.withUp(old.up()).equals(old), s.up());
    }

    @Override
    public XdpDevice build(XdpSettings s) {
        return withConsumer(new XdpDevice(s, pools()));
    }

    /** The old device detaches its program and lets go of the queues before the new one attaches. */
    @Override
    public boolean buildBeforeTearDown() {
        return false;
    }

    /** The other device of this bundle receiving from the interface, or null. */
    private String holderOf(XdpSettings s) {
        return otherDevice(s, d -> d instanceof XdpDevice x && x.settings().ifname().equals(s.ifname()));
    }

    @Override
    public XdpSettings settings(Config c, ConfigValues v) {
        v.noUnknownKeys(Config.class);
        String name = v.deviceName("name", c::name);
        String ifname = v.text("interface", c::interface$);
        int queues = v.integer("rx.queues", c::rx_queues);
        String portList = v.text("ports", c::ports);
        List<Integer> ports = new ArrayList<>();
        for (String p : portList.split(",")) {
            try {
                ports.add((int) Checks.parseLong("ports", p.strip(), "UDP port numbers separated by commas, e.g. 9000,9001"));
            } catch (IllegalArgumentException e) {
                v.problem(e.getMessage());
                break;
            }
        }
        int ring = v.integer("ring.size", c::ring_size);
        int frames = v.integer("umem.frames", c::umem_frames);
        String mode = v.choice("mode", c::mode, Map.of("native", "native", "generic", "generic"), "native");
        boolean zeroCopy = v.bool("zero.copy", c::zero_copy);
        boolean up = v.bool("up", c::up);
        if (!v.ok()) {
            return null;
        }
        try {
            return XdpSettings.builder(name).ifname(ifname).rxQueues(queues).ports(ports).ringSize(ring)
                    .umemFrames(frames).mode(mode).zeroCopy(zeroCopy).up(up).build();
        } catch (IllegalArgumentException e) {
            v.problem(e.getMessage());
            return null;
        }
    }
}

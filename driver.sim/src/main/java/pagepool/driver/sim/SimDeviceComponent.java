package pagepool.driver.sim;

import java.lang.System.Logger.Level;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.PagePoolFactory;
import pagepool.api.queue.NetDevice;
import pagepool.kit.config.ConfigValues;
import pagepool.kit.driver.DeviceComponent;

/**
 * One simulated device per factory configuration of {@value #PID} (the runtime ships
 * {@code pagepool.sim.device-sim0.cfg}). The configuration is checked before anything is built:
 * a device is registered as a {@link NetDevice} only with valid settings and a name no other
 * device has. Editing the configuration rebuilds the device with the new settings (the link
 * state alone changes in place); a configuration that cannot apply is refused with one line
 * naming each bad value, listed as a configuration problem, and the device, if any, keeps
 * running with its last good settings.
 */
@Component(configurationPid = SimDeviceComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {}, immediate = true)
@Designate(ocd = SimDeviceComponent.Config.class, factory = true)
public final class SimDeviceComponent extends DeviceComponent<SimDeviceComponent.Config, SimSettings, SimDevice> {

    static final String PID = "pagepool.sim.device";
    private static final System.Logger LOG = System.getLogger(SimDeviceComponent.class.getName());

    @ObjectClassDefinition(name = "pagepool simulated NIC", description = "A simulated multi-queue NIC under traffic")
    public @interface Config {
        @AttributeDefinition(description = "Device name")
        String name() default "sim0";

        @AttributeDefinition(description = "RX queues")
        int rx_queues() default 4;

        @AttributeDefinition(description = "RX descriptors per queue (power of 2)")
        int ring_size() default 1024;

        @AttributeDefinition(description = "Split headers (host memory) from payload (queue memory)")
        boolean header_split() default false;

        @AttributeDefinition(description = "Smallest packet in bytes, header included")
        int packet_size_min() default 1500;

        @AttributeDefinition(description = "Largest packet in bytes, header included")
        int packet_size_max() default 1500;

        @AttributeDefinition(description = "Offered packets per second per queue; 0 for unbounded")
        long rate_pps() default 10_000;

        @AttributeDefinition(description = "Share of packets read by socket threads (released off NAPI)")
        double socket_fraction() default 0.5;

        @AttributeDefinition(description = "How long socket threads hold pages, in microseconds")
        long hold_micros() default 200;

        @AttributeDefinition(description = "A full socket makes the sender hold back (TCP's window); false: it drops (UDP)")
        boolean socket_backpressure() default true;

        @AttributeDefinition(description = "Socket threads")
        int consumer_threads() default 1;

        @AttributeDefinition(description = "NAPI threads the queues share; 0 for one per queue up to the number of cores")
        int napi_threads() default 0;

        @AttributeDefinition(description = "Bits of DMA address the NIC can reach")
        int dma_mask_bits() default 48;

        @AttributeDefinition(description = "Carrier: traffic arrives (pp:traffic on|off)")
        boolean traffic() default true;

        @AttributeDefinition(description = "Administratively up (pp:link up|down, ip link set up|down): down frees the rings")
        boolean up() default true;

        @AttributeDefinition(description = "IOTLB entries per queue")
        int iotlb_entries() default 64;

        @AttributeDefinition(description = "IOTLB associativity")
        int iotlb_ways() default 4;
    }

    @Activate
    public SimDeviceComponent(Map<String, Object> props, BundleContext context, @Reference PagePoolFactory pools,
            @Reference SimDeviceNames names) {
        super(Config.class, props, context, pools, names);
        activate(props);
    }

    /** Carrier and administrative state change in place; everything else rebuilds the device. */
    @Override
    public boolean changeInPlace(SimDevice d, SimSettings old, SimSettings s) {
        if (!s.toBuilder().traffic(old.traffic()).up(old.up()).build().equals(old)) {
            return false;
        }
        d.setCarrier(s.traffic());
        d.setAdminUp(s.up());
        LOG.log(Level.INFO, "{0}: carrier {1}, {2}", s.name(), s.traffic() ? "on" : "off", s.up() ? "up" : "down");
        return true;
    }

    @Override
    public SimDevice build(SimSettings s) {
        return new SimDevice(s, pools());
    }

    @Override
    public void open(SimDevice d) {
        d.open();
    }

    /** Checked settings, or null with the problems in {@code v}; the ranges are {@link SimSettings}'s. */
    @Override
    public SimSettings settings(Config c, ConfigValues v) {
        v.noUnknownKeys(Config.class);
        String name = v.deviceName("name", c::name);
        int queues = v.integer("rx.queues", c::rx_queues);
        int ring = v.integer("ring.size", c::ring_size);
        boolean split = v.bool("header.split", c::header_split);
        int min = v.integer("packet.size.min", c::packet_size_min);
        int max = v.integer("packet.size.max", c::packet_size_max);
        long rate = v.integer("rate.pps", c::rate_pps);
        double share = v.decimal("socket.fraction", c::socket_fraction);
        long hold = v.integer("hold.micros", c::hold_micros);
        boolean backpressure = v.bool("socket.backpressure", c::socket_backpressure);
        int consumers = v.integer("consumer.threads", c::consumer_threads);
        int napis = v.integer("napi.threads", c::napi_threads);
        int mask = v.integer("dma.mask.bits", c::dma_mask_bits);
        boolean traffic = v.bool("traffic", c::traffic);
        boolean up = v.bool("up", c::up);
        int entries = v.integer("iotlb.entries", c::iotlb_entries);
        int ways = v.integer("iotlb.ways", c::iotlb_ways);
        if (!v.ok()) {
            return null;
        }
        try {
            return SimSettings.builder(name).rxQueues(queues).ringSize(ring).headerSplit(split).packetSizes(min, max)
                    .ratePps(rate).socketFraction(share).holdMicros(hold).socketBackpressure(backpressure)
                    .consumerThreads(consumers).napiThreads(napis).dmaMaskBits(mask).traffic(traffic).up(up)
                    .iotlb(entries, ways).build();
        } catch (IllegalArgumentException e) {
            v.problem(e.getMessage());
            return null;
        }
    }
}

package pagepool.driver.sim;

import java.lang.System.Logger.Level;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.Checks;
import pagepool.api.PagePoolFactory;
import pagepool.kit.config.ConfigReport;
import pagepool.kit.config.ConfigValues;
import pagepool.api.queue.NetDevice;

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
public final class SimDeviceComponent {

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

    private final BundleContext context;
    private final PagePoolFactory pools;
    private final SimDeviceNames names;
    private final ConfigReport report;
    private final String pid;
    private SimSettings settings;
    private SimDevice device;
    private ServiceRegistration<NetDevice> registration;

    @Activate
    public SimDeviceComponent(Config config, Map<String, Object> props, BundleContext context,
            @Reference PagePoolFactory pools, @Reference SimDeviceNames names) {
        this.context = context;
        this.pools = pools;
        this.names = names;
        this.report = new ConfigReport(context);
        this.pid = String.valueOf(props.get(Constants.SERVICE_PID));
        apply(config, props);
    }

    @Modified
    void modified(Config config, Map<String, Object> props) {
        apply(config, props);
    }

    @Deactivate
    synchronized void deactivate() {
        tearDown();
        try {
            pools.reserve(pid, 0);
        } catch (RuntimeException e) {
            // The engine went first: its reservations went with it.
        }
        if (settings != null) {
            names.release(settings.name(), pid);
        }
        report.close();
    }

    private synchronized void apply(Config config, Map<String, Object> props) {
        ConfigValues v = new ConfigValues(props);
        SimSettings s = settings(config, v);
        String keeps = device == null ? "; no device is created"
                : "; " + settings.name() + " keeps running with its last good configuration";
        if (s == null) {
            String name = settings != null ? settings.name() : nameOf(config);
            report.refuse(v.source(), "device " + (name.isBlank() ? "(no name)" : name), v.message() + keeps);
            return;
        }
        try {
            pools.reserve(pid, s.committedBytes());
        } catch (IllegalArgumentException e) {
            report.refuse(v.source(), "device " + s.name(), e.getMessage() + keeps);
            return;
        }
        String holder = names.claim(s.name(), pid, v.source());
        if (holder != null) {
            pools.reserve(pid, device == null ? 0 : settings.committedBytes());
            report.refuse(v.source(), "device " + s.name(), Checks.message("name", "'" + s.name()
                    + "' is taken by the device of " + holder, "a name no other device has") + keeps);
            return;
        }
        report.clear();
        if (device != null && s.equals(settings)) {
            return;
        }
        if (device != null && s.toBuilder().traffic(settings.traffic()).up(settings.up()).build().equals(settings)) {
            // Carrier and administrative state change in place; everything else rebuilds the device.
            device.setCarrier(s.traffic());
            device.setAdminUp(s.up());
            settings = s;
            LOG.log(Level.INFO, "{0}: carrier {1}, {2}", s.name(), s.traffic() ? "on" : "off", s.up() ? "up" : "down");
            return;
        }
        SimSettings old = settings;
        SimDevice fresh;
        try {
            // Built before the old one goes: a configuration that cannot be built leaves it running.
            fresh = new SimDevice(s, pools);
        } catch (RuntimeException | OutOfMemoryError e) {
            pools.reserve(pid, old == null ? 0 : old.committedBytes());
            if (old == null || !old.name().equals(s.name())) {
                names.release(s.name(), pid);
            }
            report.refuse(v.source(), "device " + s.name(), "the device cannot be built with these settings: "
                    + e.getMessage() + keeps);
            return;
        }
        tearDown();
        if (old != null && !old.name().equals(s.name())) {
            names.release(old.name(), pid);
        }
        settings = s;
        device = fresh.open();
        Dictionary<String, Object> props2 = new Hashtable<>();
        props2.put(NetDevice.NAME, s.name());
        registration = context.registerService(NetDevice.class, device, props2);
        if (old != null) {
            LOG.log(Level.INFO, "{0}: rebuilt with its new configuration ({1})", s.name(), v.source());
        }
    }

    private void tearDown() {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException e) {
                // Gone with the bundle already.
            }
            registration = null;
        }
        if (device != null) {
            device.close();
            device = null;
        }
    }

    /** The configuration's name as it may be shown: printable, clipped, quoted when it is no name. */
    private static String nameOf(Config c) {
        try {
            String n = c.name() == null ? "" : c.name().strip();
            try {
                return n.isEmpty() ? n : Checks.deviceName("name", n);
            } catch (IllegalArgumentException e) {
                return Checks.printable(n);
            }
        } catch (RuntimeException e) {
            return "";
        }
    }

    /** Checked settings, or null with the problems in {@code v}. */
    static SimSettings settings(Config c, ConfigValues v) {
        v.noUnknownKeys(Config.class);
        String name = v.deviceName("name", c::name);
        int queues = v.integer("rx.queues", c::rx_queues, 1, SimSettings.MAX_QUEUES);
        int ring = v.integer("ring.size", c::ring_size, 16, 16384);
        if (v.ok() && Integer.bitCount(ring) != 1) {
            v.problem("ring.size", ring, "a power of 2 in 16..16384");
        }
        boolean split = v.bool("header.split", c::header_split);
        int min = v.integer("packet.size.min", c::packet_size_min, Packet.MIN_SIZE, Packet.MAX_SIZE);
        int max = v.integer("packet.size.max", c::packet_size_max, Packet.MIN_SIZE, Packet.MAX_SIZE);
        if (v.ok() && min > max) {
            v.problem("packet.size.min", min, "at most packet.size.max " + max);
        }
        long rate = v.integer("rate.pps", c::rate_pps, 0, 100_000_000L);
        double share = v.decimal("socket.fraction", c::socket_fraction, 0, 1);
        long hold = v.integer("hold.micros", c::hold_micros, 0, 60_000_000L);
        boolean backpressure = v.bool("socket.backpressure", c::socket_backpressure);
        int consumers = v.integer("consumer.threads", c::consumer_threads, 1, 16);
        int napis = v.integer("napi.threads", c::napi_threads, 0, SimSettings.MAX_QUEUES);
        int mask = v.integer("dma.mask.bits", c::dma_mask_bits, 32, 64);
        boolean traffic = v.bool("traffic", c::traffic);
        boolean up = v.bool("up", c::up);
        int entries = v.integer("iotlb.entries", c::iotlb_entries, 1, 1 << 20);
        int ways = v.integer("iotlb.ways", c::iotlb_ways, 1, 1 << 20);
        if (v.ok() && (entries % ways != 0 || Integer.bitCount(entries / ways) != 1)) {
            v.problem("iotlb.ways", ways, "a divisor of iotlb.entries " + entries
                    + " that leaves a power-of-2 number of sets");
        }
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

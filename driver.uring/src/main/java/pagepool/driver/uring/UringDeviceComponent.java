package pagepool.driver.uring;

import java.lang.System.Logger.Level;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.Checks;
import pagepool.api.PagePoolFactory;
import pagepool.kit.config.ConfigReport;
import pagepool.kit.config.ConfigValues;
import pagepool.api.datagram.DatagramConsumer;
import pagepool.api.queue.NetDevice;

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
public final class UringDeviceComponent {

    static final String PID = "pagepool.uring.device";
    private static final System.Logger LOG = System.getLogger(UringDeviceComponent.class.getName());

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

        @AttributeDefinition(description = "UDP GRO: several datagrams of a flow in one 64 KiB buffer (needs"
                + " page.order 4; io_uring only)")
        boolean gro() default false;

        @AttributeDefinition(description = "Administratively up (pp:link up|down): down frees the rings")
        boolean up() default true;
    }

    private final BundleContext context;
    private final PagePoolFactory pools;
    private final ConfigReport report;
    /** Consumers by their references: the greatest (highest ranking, then oldest) that matches wins. */
    private final TreeMap<ServiceReference<DatagramConsumer>, DatagramConsumer> consumers = new TreeMap<>();
    private UringSettings settings;
    private UringDevice device;
    private ServiceRegistration<NetDevice> registration;

    @Activate
    public UringDeviceComponent(Config config, Map<String, Object> props, BundleContext context,
            @Reference PagePoolFactory pools) {
        this.context = context;
        this.pools = pools;
        this.report = new ConfigReport(context);
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
            pools.reserve(reservation, 0);
        } catch (RuntimeException e) {
            // The engine went first: its reservations went with it.
        }
        report.close();
    }

    // A replaced consumer may be bound before the old one is unbound: the map holds both meanwhile.
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    synchronized void addConsumer(DatagramConsumer c, ServiceReference<DatagramConsumer> ref) {
        consumers.put(ref, c);
        chooseConsumer();
    }

    synchronized void removeConsumer(DatagramConsumer c, ServiceReference<DatagramConsumer> ref) {
        consumers.remove(ref);
        chooseConsumer();
    }

    private void chooseConsumer() {
        if (device == null) {
            return;
        }
        DatagramConsumer best = null;
        for (Map.Entry<ServiceReference<DatagramConsumer>, DatagramConsumer> e : consumers.descendingMap().entrySet()) {
            Object want = e.getKey().getProperty(DatagramConsumer.DEVICE);
            if (want == null || want.equals(device.name())) {
                best = e.getValue();
                break;
            }
        }
        device.consumer(best);
    }

    /** A configured name as it may be shown: itself when valid, else printable and clipped. */
    private static String printableName(String n) {
        try {
            return Checks.deviceName("name", n);
        } catch (IllegalArgumentException e) {
            return Checks.printable(n);
        }
    }

    /** The key of this configuration's memory reservation. */
    private String reservation = "";

    private String pidOf(Map<String, Object> props) {
        reservation = String.valueOf(props.get(org.osgi.framework.Constants.SERVICE_PID));
        return reservation;
    }

    private synchronized void apply(Config config, Map<String, Object> props) {
        ConfigValues v = new ConfigValues(props);
        UringSettings s = settings(config, v);
        String keeps = device == null ? "; no device is created"
                : "; " + settings.name() + " keeps running with its last good configuration";
        if (s == null) {
            String name = settings != null ? settings.name() : printableName(String.valueOf(props.getOrDefault("name",
                    "udp0")));
            report.refuse(v.source(), "device " + name, v.message() + keeps);
            return;
        }
        String holder = holderOf(s.name());
        if (holder != null) {
            report.refuse(v.source(), "device " + s.name(), Checks.message("name", "'" + s.name() + "' is taken by "
                    + holder, "a name no other device has") + keeps);
            return;
        }
        String sharer = sharerOf(s);
        if (sharer != null) {
            report.refuse(v.source(), "device " + s.name(), Checks.message("port", s.port(), "a port no other device"
                    + " receives on: " + sharer + " receives on " + Net.text(s.address()) + ":" + s.port()) + keeps);
            return;
        }
        try {
            pools.reserve(pidOf(props), s.committedBytes());
        } catch (IllegalArgumentException e) {
            report.refuse(v.source(), "device " + s.name(), e.getMessage() + keeps);
            return;
        }
        if (device != null && s.equals(settings)) {
            report.clear();
            return;
        }
        if (device != null && new UringSettings(s.name(), s.address(), s.port(), s.rxQueues(), s.ringSize(),
                s.pageOrder(), s.rcvbufBytes(), s.ioUring(), s.coalesceMicros(), s.gro(), settings.up()).equals(settings)) {
            device.setAdminUp(s.up());
            settings = s;
            report.clear();
            LOG.log(Level.INFO, "{0}: {1}", s.name(), s.up() ? "up" : "down");
            return;
        }
        UringSettings old = settings;
        tearDown(); // the old sockets let go of the address before the new ones bind it
        UringDevice d;
        try {
            d = new UringDevice(s, pools);
        } catch (RuntimeException e) {
            settings = null;
            report.refuse(v.source(), "device " + s.name(), e.getMessage() + (old == null ? "; no device is created"
                    : "; " + old.name() + " is closed"));
            return;
        }
        report.clear();
        settings = s;
        device = d;
        chooseConsumer();
        Dictionary<String, Object> p = new Hashtable<>();
        p.put(NetDevice.NAME, s.name());
        registration = context.registerService(NetDevice.class, device, p);
        if (old != null) {
            LOG.log(Level.INFO, "{0}: rebuilt with its new configuration ({1})", s.name(), v.source());
        }
    }

    /** Who else registered a device of this name, or null. */
    private String holderOf(String name) {
        try {
            for (ServiceReference<NetDevice> r : context.getServiceReferences(NetDevice.class, "("
                    + NetDevice.NAME + "=" + name.replaceAll("([\\\\*()])", "\\\\$1") + ")")) {
                if (registration == null || !r.equals(registration.getReference())) {
                    return "bundle " + r.getBundle().getSymbolicName();
                }
            }
            return null;
        } catch (InvalidSyntaxException | IllegalStateException e) {
            return null;
        }
    }

    /**
     * The other device receiving on the same address and port, or null. The kernel would let two
     * devices share it (SO_REUSEPORT, same user) and split the traffic between them unseen.
     */
    private String sharerOf(UringSettings s) {
        if (s.port() == 0) {
            return null;
        }
        String address = Net.text(s.address()) + ":" + s.port();
        try {
            for (ServiceReference<NetDevice> r : context.getServiceReferences(NetDevice.class, null)) {
                if (registration != null && r.equals(registration.getReference())) {
                    continue;
                }
                NetDevice d = context.getService(r);
                try {
                    if (d != null && address.equals(String.valueOf(d.details().get("address")))) {
                        return d.name();
                    }
                } catch (RuntimeException e) {
                    // Another driver's details failed: it is not ours to judge here.
                } finally {
                    context.ungetService(r);
                }
            }
        } catch (InvalidSyntaxException | IllegalStateException e) {
            return null;
        }
        return null;
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

    /** Checked settings, or null with the problems in {@code v}. */
    static UringSettings settings(Config c, ConfigValues v) {
        v.noUnknownKeys(Config.class);
        String name = v.deviceName("name", c::name);
        String address = v.text("bind.address", c::bind_address);
        int port = v.integer("port", c::port, 0, 65535);
        int queues = v.integer("rx.queues", c::rx_queues, 1, UringSettings.MAX_QUEUES);
        int ring = v.integer("ring.size", c::ring_size, 16, UringSettings.MAX_RING);
        if (v.ok() && Integer.bitCount(ring) != 1) {
            v.problem("ring.size", ring, "a power of 2 in 16.." + UringSettings.MAX_RING);
        }
        int order = v.integer("page.order", c::page_order, 0, 4);
        int rcvbuf = v.integer("rcvbuf.bytes", c::rcvbuf_bytes, 0, 1 << 30);
        boolean ioUring = v.bool("io.uring", c::io_uring);
        int coalesce = v.integer("coalesce.usecs", c::coalesce_usecs, 0, UringSettings.MAX_COALESCE_MICROS);
        boolean gro = v.bool("gro", c::gro);
        boolean up = v.bool("up", c::up);
        if (!v.ok()) {
            return null;
        }
        try {
            return UringSettings.builder(name).bind(address, port).rxQueues(queues).ringSize(ring).pageOrder(order)
                    .rcvbufBytes(rcvbuf).ioUring(ioUring).coalesceMicros(coalesce).gro(gro).up(up).build();
        } catch (IllegalArgumentException e) {
            v.problem(e.getMessage());
            return null;
        }
    }
}

package pagepool.control;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import pagepool.api.Checks;
import pagepool.api.PoolInfo;
import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.Change;
import pagepool.api.binding.DeviceInfo;
import pagepool.api.binding.PoolBindings;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.binding.RestartLatency;
import pagepool.api.config.ConfigProblem;
import pagepool.api.control.ChangeEvent;
import pagepool.api.control.Control;
import pagepool.api.control.Device;
import pagepool.api.control.DmaBufList;
import pagepool.api.control.HeldPages;
import pagepool.api.control.Pool;
import pagepool.api.control.QueueCounters;
import pagepool.api.control.RateSample;
import pagepool.api.datagram.DatagramSender;
import pagepool.api.datagram.DatagramSender.SendReport;
import pagepool.api.devmem.DevmemBindingInfo;
import pagepool.api.devmem.DmaBufInfo;
import pagepool.api.devmem.DmaBufs;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueDebug;
import pagepool.api.queue.QueueDebug.ResetMode;

/**
 * The {@link Control} service: the engine's bindings service (owned by this bundle, so
 * operators share the bindings they make), the drivers, the refusals other bundles report, the
 * dma-buf service and the datagram sender, behind one set of checks. Drivers are other people's
 * code: what they throw when asked for details, carrier or counters is said in place of the
 * answer, and what they throw when told to change is a one-line refusal.
 */
@Component
public final class ControlComponent implements Control {

    /** How long {@link #link} waits for the engine to apply a device's new state. */
    static final long LINK_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long WARM_UP_SECONDS = 3;
    private static final long SAMPLE_MILLIS = 1000;
    private static final System.Logger LOG = System.getLogger(ControlComponent.class.getName());

    private final PoolBindings bindings;
    /** When a failed binding was first seen failing: pp:problems' "since" for it. */
    private final Map<Long, Instant> failedSince = new ConcurrentHashMap<>();
    private final ChangeLog changeLog = new ChangeLog(CHANGES_KEPT);
    private final RateHistory history = new RateHistory(SAMPLES_KEPT, SAMPLED_QUEUES);
    private Change.Subscription changeFeed;
    private ScheduledExecutorService sampler;
    /** Reads from drivers, 500 ms at most each: a hung driver hangs neither the sampler nor a command. */
    private final DriverCalls drivers = new DriverCalls(500);

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private volatile List<NetDevice> devices;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private volatile List<ConfigProblem> refusals;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile DmaBufs dmabufs;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile DatagramSender sender;

    @Activate
    public ControlComponent(@Reference PoolBindings bindings) {
        this.bindings = bindings;
    }

    /**
     * Starts the change log and the traffic sampler. Builds the JSON mapping a few seconds after
     * start, off every caller's path: Jackson's first use costs ~0.2 s of class loading, which would
     * otherwise land on the first scrape or {@code --json} command, and at start-up it would compete
     * with the framework for the CPU.
     */
    @Activate
    void start() {
        changeFeed = bindings.subscribe(changeLog);
        sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pagepool-rate-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleAtFixedRate(this::sample, SAMPLE_MILLIS, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
        sampler.schedule(() -> json(new pagepool.api.control.Refusal("warm-up")), WARM_UP_SECONDS, TimeUnit.SECONDS);
    }

    @Deactivate
    void stop() {
        if (sampler != null) {
            sampler.shutdownNow();
        }
        if (changeFeed != null) {
            changeFeed.close();
        }
        drivers.close();
    }

    /** One traffic sample; what goes wrong is logged and the next second tries again. */
    void sample() {
        try {
            history.sample(devstats(null), bindings.queues(), System.nanoTime(), java.time.Instant.now());
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "a traffic sample failed", e);
        }
    }

    /** For tests: the services a framework would inject. */
    ControlComponent(PoolBindings bindings, List<NetDevice> devices, List<ConfigProblem> refusals, DmaBufs dmabufs,
            DatagramSender sender) {
        this(bindings);
        this.devices = devices;
        this.refusals = refusals;
        this.dmabufs = dmabufs;
        this.sender = sender;
    }

    // ---- views -----------------------------------------------------------------------------------

    @Override
    public List<Device> devices() {
        List<ConfigProblem> refused = refusals("device ");
        List<Device> out = new ArrayList<>();
        for (DeviceInfo d : bindings.devices()) {
            NetDevice dev = device(d.name());
            ConfigProblem p = refused.stream().filter(x -> x.subject().equals("device " + d.name())).findFirst()
                    .orElse(null);
            refused.remove(p);
            out.add(new Device(d.name(), d.rxQueues(), d.headerSplit(), d.up(), dev != null && carrier(dev),
                    details(dev), p == null ? "applied" : "refused", p == null ? "" : p.source() + ": " + p.message()));
        }
        for (ConfigProblem p : refused) {
            out.add(new Device(p.subject().substring("device ".length()), 0, false, false, false, Map.of(), "refused",
                    p.source() + ": " + p.message()));
        }
        return out;
    }

    /** The driver's details as text, sorted; what it throws, or a silence, is said under "error". */
    private Map<String, String> details(NetDevice dev) {
        if (dev == null) {
            return Map.of();
        }
        try {
            return drivers.call(dev, "details", () -> {
                Map<String, String> m = new TreeMap<>();
                dev.details().forEach((k, v) -> m.put(String.valueOf(k), String.valueOf(v)));
                return m;
            });
        } catch (IllegalStateException e) {
            return Map.of("error", "details failed: " + (e.getCause() != null ? e.getCause() : e.getMessage()));
        }
    }

    private boolean carrier(NetDevice dev) {
        try {
            return drivers.call(dev, "carrier", dev::carrier);
        } catch (IllegalStateException e) {
            return false;
        }
    }

    @Override
    public List<QueueInfo> queues() {
        return bindings.queues();
    }

    @Override
    public List<Pool> pools() {
        // Which pool of a queue carries what: the queue's own (its pool id) takes the data, payloads
        // on a header-split device; the other active one of such a device, the headers.
        Map<QueueId, Integer> dataPools = new HashMap<>();
        for (QueueInfo q : bindings.queues()) {
            dataPools.put(q.queue(), q.poolId());
        }
        Set<String> split = new HashSet<>();
        for (DeviceInfo d : bindings.devices()) {
            if (d.headerSplit()) {
                split.add(d.name());
            }
        }
        return bindings.pools().stream().map(p -> Pool.of(p, role(p, dataPools, split))).toList();
    }

    private static String role(PoolInfo p, Map<QueueId, Integer> dataPools, Set<String> split) {
        if (p.queue() == null) {
            return null;
        }
        boolean headerSplit = split.contains(p.queue().device());
        Integer data = dataPools.get(p.queue());
        if (data != null && data == p.id()) {
            return headerSplit ? "payload" : "data";
        }
        return headerSplit && p.state() == PoolInfo.State.ACTIVE ? "header" : null;
    }

    @Override
    public List<ProviderInfo> providers() {
        return bindings.providers();
    }

    @Override
    public List<BindingInfo> bindings() {
        return bindings.bindings();
    }

    @Override
    public RestartLatency restartLatency() {
        return bindings.restartLatency();
    }

    @Override
    public List<ConfigProblem> problems() {
        List<ConfigProblem> out = refusals("");
        // A binding that cannot apply (a file naming queues the device lacks, a quarantined
        // provider) is a refusal too, standing until it is fixed or removed.
        Set<Long> failing = new HashSet<>();
        for (BindingInfo b : bindings.bindings()) {
            if (b.state() == BindingInfo.State.FAILED) {
                failing.add(b.id());
                Instant since = failedSince.computeIfAbsent(b.id(), id -> Instant.now());
                out.add(new ConfigProblem(b.origin().isEmpty() ? b.owner() : b.origin(), "binding " + b.id() + " ("
                        + b.device() + " " + b.queues() + " -> " + b.provider() + ")", b.message(), since));
            }
        }
        failedSince.keySet().retainAll(failing);
        out.sort(Comparator.comparing(ConfigProblem::since));
        return out;
    }

    /** Refusals standing whose subject starts with {@code prefix}, oldest first. */
    private List<ConfigProblem> refusals(String prefix) {
        List<ConfigProblem> all = refusals;
        List<ConfigProblem> out = new ArrayList<>();
        if (all != null) {
            all.stream().filter(p -> p.subject().startsWith(prefix)).sorted(Comparator.comparing(ConfigProblem::since))
                    .forEach(out::add);
        }
        return out;
    }

    @Override
    public List<QueueCounters> devstats(String device) {
        List<QueueCounters> out = new ArrayList<>();
        for (NetDevice d : selected(device)) {
            // One call per device, within its budget: a driver that hangs costs its own rows only.
            List<QueueCounters> rows;
            try {
                rows = drivers.call(d, "queueStats", () -> countersOf(d));
            } catch (IllegalStateException e) {
                rows = new ArrayList<>();
                String name = d.name();
                for (int q = 0; q < d.rxQueueCount(); q++) {
                    rows.add(new QueueCounters(new QueueId(name, q), Map.of(), e.getMessage()));
                }
            }
            out.addAll(rows);
        }
        return out;
    }

    /** Each queue's counters; one bad answer does not hide the others. */
    private static List<QueueCounters> countersOf(NetDevice d) {
        List<QueueCounters> out = new ArrayList<>();
        for (int q = 0; q < d.rxQueueCount(); q++) {
            QueueId id = new QueueId(d.name(), q);
            try {
                out.add(new QueueCounters(id, d.queueStats(q), ""));
            } catch (RuntimeException e) {
                // The driver is someone else's code: one bad answer does not hide the others.
                out.add(new QueueCounters(id, Map.of(), "queueStats failed: " + e.getMessage()));
            }
        }
        return out;
    }

    @Override
    public DmaBufList dmabufs() {
        DmaBufs d = requireDmaBufs();
        return new DmaBufList(d.buffers(), d.bindings());
    }

    // ---- operations ------------------------------------------------------------------------------

    @Override
    public BindingInfo bind(String device, List<Integer> queues, String provider, String origin) {
        Checks.notBlank("device", device, "a device, one of " + deviceNames());
        Checks.notBlank("provider", provider, "a provider, one of " + providerNames());
        List<String> present = providerNames();
        if (!present.contains(provider)) {
            throw Checks.invalid("provider", "'" + provider + "' is not present", "one of " + present
                    + "; install its bundle first, or bind it with a pagepool.binding-<name>.cfg file, which"
                    + " waits for it");
        }
        return bindings.bind(device, queues, provider, origin == null ? "" : origin);
    }

    @Override
    public List<BindingInfo> unbind(String device, List<Integer> queues) {
        Checks.notBlank("device", device, "a device, one of " + deviceNames());
        return bindings.unbind(device, queues);
    }

    @Override
    public Device link(String device, boolean up) {
        NetDevice dev = require(device);
        try {
            dev.setAdminUp(up);
        } catch (IllegalStateException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalStateException(device + ": the driver failed to set it " + (up ? "up" : "down") + ": " + e);
        }
        // The engine applies it within its health interval; answer when it has.
        long deadline = System.nanoTime() + LINK_WAIT_NANOS;
        while (true) {
            for (Device d : devices()) {
                if (d.name().equals(device) && d.up() == up) {
                    return d;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(device + " was set " + (up ? "up" : "down") + " but the engine did not"
                        + " apply it within " + TimeUnit.NANOSECONDS.toSeconds(LINK_WAIT_NANOS) + " s");
            }
            try {
                Thread.sleep(20); // polls the engine's view; the answer is due within its health interval
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(device + ": interrupted while waiting for the engine to apply it");
            }
        }
    }

    @Override
    public List<String> traffic(String device, boolean on) {
        List<String> changed = new ArrayList<>();
        for (NetDevice d : selected(device)) {
            try {
                d.setCarrier(on);
                changed.add(d.name());
            } catch (RuntimeException e) {
                throw new IllegalStateException(d.name() + ": the driver failed to set carrier " + (on ? "on" : "off")
                        + ": " + e + (changed.isEmpty() ? "" : "; set before it: " + changed));
            }
        }
        return changed;
    }

    @Override
    public QueueInfo queueReset(String device, int queue, ResetMode mode) {
        NetDevice dev = require(device);
        checkQueue(dev, queue);
        if (mode == null) {
            return bindings.restartQueue(device, queue);
        }
        // The mode is for this reset only: later restarts (binds, swaps) keep the device's own.
        QueueDebug dbg = debug(dev);
        ResetMode before = dbg.resetMode();
        dbg.resetMode(mode);
        try {
            return bindings.restartQueue(device, queue);
        } finally {
            dbg.resetMode(before);
        }
    }

    @Override
    public HeldPages pageHold(String device, int queue, boolean hold) {
        NetDevice dev = require(device);
        checkQueue(dev, queue);
        QueueDebug dbg = debug(dev);
        if (hold) {
            if (!dbg.holdPage(queue)) {
                throw new IllegalStateException(device + "/" + queue + " has no page to hold (expected: a running"
                        + " queue)");
            }
        } else {
            dbg.releaseHeldPages(queue);
        }
        return new HeldPages(new QueueId(device, queue), dbg.heldPages(queue));
    }

    @Override
    public ProviderInfo providerReset(String provider) {
        return bindings.resetProvider(provider);
    }

    @Override
    public DmaBufInfo dmabufCreate(long bytes) {
        return requireDmaBufs().create(bytes);
    }

    @Override
    public DevmemBindingInfo dmabufBind(int buffer, String device, List<Integer> queues) {
        return requireDmaBufs().bind(buffer, device, queues);
    }

    @Override
    public void dmabufUnbind(long dmabufBinding) {
        DmaBufs d = requireDmaBufs();
        if (!d.unbind(dmabufBinding)) {
            throw Checks.invalid("dmabuf-binding", dmabufBinding + " is unknown", "one of " + d.bindings().stream()
                    .map(DevmemBindingInfo::id).sorted().toList());
        }
    }

    @Override
    public void dmabufDestroy(int buffer) {
        DmaBufs d = requireDmaBufs();
        if (!d.destroy(buffer)) {
            throw Checks.invalid("buffer", buffer + " is unknown", "one of " + d.buffers().stream()
                    .map(DmaBufInfo::id).sorted().toList());
        }
    }

    @Override
    public SendReport udpSend(String target, int size, long count, long rate) {
        DatagramSender s = sender;
        if (s == null) {
            throw new IllegalStateException("no datagram sender: install driver.uring"
                    + " (copy extra/driver.uring-*.jar into load/)");
        }
        Checks.notBlank("target", target, "a device or host:port");
        String address = target;
        NetDevice dev = device(target);
        if (dev != null) {
            Object a = details(dev).get("address");
            if (a == null) {
                throw Checks.invalid("device", "'" + target + "' has no address", "a UDP device, e.g. udp0");
            }
            address = a.toString();
        }
        int colon = address.lastIndexOf(':');
        if (colon <= 0) {
            throw Checks.invalid("target", "'" + target + "'", "a device or host:port");
        }
        int port = (int) range("port", address.substring(colon + 1), 1, 65535);
        range("size", String.valueOf(size), 64, 65507);
        range("count", String.valueOf(count), 1, Long.MAX_VALUE);
        range("rate", String.valueOf(rate), 0, Long.MAX_VALUE);
        InetSocketAddress to = new InetSocketAddress(address.substring(0, colon), port);
        if (to.isUnresolved()) {
            throw Checks.invalid("host", "'" + address.substring(0, colon) + "'", "an IPv4 address or a name that"
                    + " resolves");
        }
        return s.send(to, size, count, rate);
    }

    /** An integer given as text, in {@code min..max}, or the refusal naming it. */
    static long range(String what, String text, long min, long max) {
        String expected = max == Long.MAX_VALUE ? "an integer of at least " + min : "an integer in " + min + ".." + max;
        long n = Checks.parseLong(what, text, expected);
        if (n < min || n > max) {
            throw Checks.invalid(what, "'" + text + "'", expected);
        }
        return n;
    }

    @Override
    public Change.Subscription subscribe(Consumer<Change> listener) {
        return bindings.subscribe(listener);
    }

    @Override
    public List<ChangeEvent> changes(long afterId) {
        return changeLog.after(afterId);
    }

    @Override
    public Change.Subscription follow(long afterId, Consumer<ChangeEvent> listener) {
        return changeLog.follow(afterId, listener);
    }

    @Override
    public List<RateSample> history(long afterSeq) {
        return history.after(afterSeq);
    }

    @Override
    public String json(Object value) {
        return WireJson.write(value);
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private DmaBufs requireDmaBufs() {
        DmaBufs d = dmabufs;
        if (d == null) {
            throw new IllegalStateException("no device-memory provider: install provider.devmem"
                    + " (copy extra/provider.devmem-*.jar into load/)");
        }
        return d;
    }

    private static QueueDebug debug(NetDevice dev) {
        if (!(dev instanceof QueueDebug dbg)) {
            throw new IllegalArgumentException("device " + dev.name() + " has no debugging aids (expected: a"
                    + " simulated device)");
        }
        return dbg;
    }

    private static void checkQueue(NetDevice dev, int queue) {
        int n = dev.rxQueueCount();
        if (queue < 0 || queue >= n) {
            throw Checks.invalid("queue", "'" + queue + "'", "0.." + (n - 1) + " on " + dev.name());
        }
    }

    private List<String> providerNames() {
        return bindings.providers().stream().map(ProviderInfo::name).sorted().toList();
    }

    private List<String> deviceNames() {
        List<NetDevice> all = devices;
        return all == null ? List.of() : all.stream().map(NetDevice::name).sorted().toList();
    }

    /** The named device, or every device (sorted by name) for null. */
    private List<NetDevice> selected(String name) {
        if (name == null) {
            List<NetDevice> all = devices;
            return all == null ? List.of() : all.stream().sorted(Comparator.comparing(NetDevice::name)).toList();
        }
        return List.of(require(name));
    }

    private NetDevice require(String name) {
        NetDevice d = device(name);
        if (d == null) {
            throw Checks.invalid("device", "'" + name + "' is unknown", "one of " + deviceNames());
        }
        return d;
    }

    private NetDevice device(String name) {
        List<NetDevice> all = devices;
        if (all == null || name == null) {
            return null;
        }
        for (NetDevice d : all) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }
}

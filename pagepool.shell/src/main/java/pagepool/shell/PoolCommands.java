package pagepool.shell;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import pagepool.api.PoolInfo;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.DeviceInfo;
import pagepool.api.binding.PoolBindings;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.binding.QueueList;
import pagepool.api.devmem.DevmemBindingInfo;
import pagepool.api.devmem.DmaBufInfo;
import pagepool.api.devmem.DmaBufs;
import pagepool.api.queue.NetDevice;

/**
 * The {@code pp} commands, after {@code ynl netdev page-pool-get / queue-get / bind-rx}. Each
 * prints a table, or JSON with {@code --json}. Bindings made here belong to this bundle (the
 * binding service is bundle-scoped): they stay while the shell bundle runs.
 */
@Component(service = PoolCommands.class, property = {"osgi.command.scope=pp",
        "osgi.command.function=pools", "osgi.command.function=queues", "osgi.command.function=providers",
        "osgi.command.function=bindings", "osgi.command.function=devices", "osgi.command.function=bind",
        "osgi.command.function=unbind", "osgi.command.function=devstats", "osgi.command.function=traffic",
        "osgi.command.function=dmabufs", "osgi.command.function=dmabuf_create", "osgi.command.function=dmabuf_bind",
        "osgi.command.function=dmabuf_unbind", "osgi.command.function=help"})
public final class PoolCommands {

    static final String USAGE = String.join("\n",
            "pp:pools [--json]                      page pools with stats and inflight (page-pool-get)",
            "pp:queues [--json]                     RX queues and the provider behind each (queue-get)",
            "pp:providers [--json]                  memory providers",
            "pp:bindings [--json]                   bindings of queues to providers",
            "pp:devices [--json]                    network devices",
            "pp:bind <device> <queues> <provider>   bind queues (e.g. 1,2 or 0-3) to a provider (bind-rx)",
            "pp:unbind <device> <queues>            back to the default provider",
            "pp:devstats [device] [--json]          per-queue device counters (ethtool -S)",
            "pp:traffic on|off [device]             link up or down: traffic flows or stops",
            "pp:dmabufs [--json]                    device-memory buffers and their bindings, with chunk use",
            "pp:dmabuf_create <bytes>               a device-memory buffer (multiple of 4096; K, M, G suffixes)",
            "pp:dmabuf_bind <buffer> <device> <queues>  bind a buffer to RX queues (needs header split)",
            "pp:dmabuf_unbind <binding>             unbind: queues back to the default provider");

    private final PoolBindings bindings;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private volatile List<NetDevice> devices;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile DmaBufs dmabufs;

    @Activate
    public PoolCommands(@Reference PoolBindings bindings) {
        this.bindings = bindings;
    }

    public String help() {
        return USAGE;
    }

    public String pools(String... args) {
        boolean json = json(args, 0);
        Output out = new Output("id", "queue", "provider", "state", "inflight", "inflight-bytes", "hold", "release",
                "detach-time", "stalled", "bad-releases", "stats", "provider-info");
        for (PoolInfo p : bindings.pools()) {
            out.row(p.id(), p.queue() == null ? null : p.queue().toString(), p.provider(), p.state().name(),
                    p.inflight(), p.inflightBytes(), p.holdCount(), p.releaseCount(),
                    p.detachTime() == null ? null : p.detachTime().toString(), p.stalled(), p.badReleases(),
                    json ? new LinkedHashMap<>(p.stats().toMap()) : shortStats(p), new LinkedHashMap<>(p.providerInfo()));
        }
        return out.render(json);
    }

    /** The counters that tell the paths apart, for the table. */
    private static String shortStats(PoolInfo p) {
        var s = p.stats();
        return "fast=" + s.allocFast() + " slow=" + s.allocSlow() + " refill=" + s.allocRefill() + " empty="
                + s.allocEmpty() + " cached=" + s.recycleCached() + " ring=" + s.recycleRing() + " ring-full="
                + s.recycleRingFull();
    }

    public String queues(String... args) {
        boolean json = json(args, 0);
        Output out = new Output("queue", "provider", "binding", "pool", "state", "restarts", "message");
        for (QueueInfo q : bindings.queues()) {
            out.row(q.queue().toString(), q.provider(), q.bindingId() == 0 ? null : q.bindingId(),
                    q.poolId() == 0 ? null : q.poolId(), q.state().name(), q.restarts(), q.message());
        }
        return out.render(json);
    }

    public String providers(String... args) {
        boolean json = json(args, 0);
        Output out = new Output("name", "readable", "default", "ranking", "pools");
        for (ProviderInfo p : bindings.providers()) {
            out.row(p.name(), p.readable(), p.isDefault(), p.ranking(), p.pools());
        }
        return out.render(json);
    }

    public String bindings(String... args) {
        boolean json = json(args, 0);
        Output out = new Output("id", "device", "queues", "provider", "owner", "state", "message");
        for (BindingInfo b : bindings.bindings()) {
            out.row(b.id(), b.device(), b.queues(), b.provider(), b.owner(), b.state().name(), b.message());
        }
        return out.render(json);
    }

    public String devices(String... args) {
        boolean json = json(args, 0);
        Output out = new Output("name", "rx-queues", "header-split", "carrier");
        for (DeviceInfo d : bindings.devices()) {
            NetDevice dev = device(d.name());
            out.row(d.name(), d.rxQueues(), d.headerSplit(), dev != null && dev.carrier());
        }
        return out.render(json);
    }

    public String bind(String... args) {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: pp:bind <device> <queues> <provider>, e.g. pp:bind sim0 1,2 heap");
        }
        BindingInfo b = bindings.bind(args[0], QueueList.parse(args[1]), args[2]);
        return "binding " + b.id() + ": " + b.device() + " queues " + b.queues() + " -> " + b.provider() + " "
                + b.state() + (b.message().isEmpty() ? "" : " (" + b.message() + ")");
    }

    public String unbind(String... args) {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: pp:unbind <device> <queues>, e.g. pp:unbind sim0 1");
        }
        List<BindingInfo> gone = bindings.unbind(args[0], QueueList.parse(args[1]));
        StringBuilder sb = new StringBuilder();
        for (BindingInfo b : gone) {
            sb.append(sb.isEmpty() ? "" : "\n").append("removed binding ").append(b.id()).append(": ")
                    .append(b.device()).append(" queues ").append(b.queues()).append(" -> ").append(b.provider());
        }
        return sb.toString();
    }

    public String devstats(String... args) {
        boolean json = json(args, 1);
        String only = Arrays.stream(args).filter(a -> !a.equals("--json")).findFirst().orElse(null);
        List<NetDevice> devs = selected(only);
        List<String> columns = new ArrayList<>(List.of("queue"));
        List<Map<String, Object>> rows = new ArrayList<>();
        for (NetDevice d : devs) {
            for (int q = 0; q < d.rxQueueCount(); q++) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("queue", d.name() + "/" + q);
                for (Map.Entry<String, Long> e : d.queueStats(q).entrySet()) {
                    if (!columns.contains(e.getKey())) {
                        columns.add(e.getKey());
                    }
                    row.put(e.getKey(), e.getValue());
                }
                rows.add(row);
            }
        }
        Output out = new Output(columns.toArray(String[]::new));
        for (Map<String, Object> r : rows) {
            out.row(columns.stream().map(r::get).toArray());
        }
        return out.render(json);
    }

    public String traffic(String... args) {
        if (args.length < 1 || args.length > 2 || !(args[0].equals("on") || args[0].equals("off"))) {
            throw new IllegalArgumentException("usage: pp:traffic on|off [device]");
        }
        boolean up = args[0].equals("on");
        List<NetDevice> devs = selected(args.length == 2 ? args[1] : null);
        devs.forEach(d -> d.setCarrier(up));
        return "traffic " + args[0] + ": " + devs.stream().map(NetDevice::name).toList();
    }

    public String dmabufs(String... args) {
        boolean json = json(args, 0);
        DmaBufs d = dmabufs();
        Output buffers = new Output("buffer", "size", "owner", "binding");
        for (DmaBufInfo b : d.buffers()) {
            buffers.row(b.id(), b.size(), b.owner(), b.binding() == 0 ? null : b.binding());
        }
        Output bound = new Output("binding", "buffer", "device", "queues", "provider", "chunks", "chunks-free",
                "chunks-out", "state");
        for (DevmemBindingInfo b : d.bindings()) {
            bound.row(b.id(), b.buffer(), b.device(), b.queues(), b.provider(), b.chunks(), b.chunksFree(),
                    b.chunksOut(), b.state().name());
        }
        if (json) {
            return "{\"buffers\":" + buffers.render(true) + ",\"bindings\":" + bound.render(true) + "}";
        }
        return buffers.render(false) + "\n\n" + bound.render(false);
    }

    public String dmabuf_create(String... args) {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: pp:dmabuf_create <bytes>, e.g. pp:dmabuf_create 64M");
        }
        DmaBufInfo b = dmabufs().create(bytes(args[0]));
        return "buffer " + b.id() + ": " + b.size() + " bytes of device memory";
    }

    public String dmabuf_bind(String... args) {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: pp:dmabuf_bind <buffer> <device> <queues>, e.g. pp:dmabuf_bind 1 sim0 1,2");
        }
        int buffer;
        try {
            buffer = Integer.parseInt(args[0]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("buffer: '" + args[0] + "' (expected: a buffer id, see pp:dmabufs)");
        }
        DevmemBindingInfo b = dmabufs().bind(buffer, args[1], QueueList.parse(args[2]));
        return "binding " + b.id() + ": buffer " + b.buffer() + " -> " + b.device() + " queues " + b.queues() + " as "
                + b.provider() + " (" + b.chunks() + " chunks)";
    }

    public String dmabuf_unbind(String... args) {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: pp:dmabuf_unbind <binding>");
        }
        long id;
        try {
            id = Long.parseLong(args[0]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("binding: '" + args[0] + "' (expected: a binding id, see pp:dmabufs)");
        }
        if (!dmabufs().unbind(id)) {
            throw new IllegalArgumentException("binding: " + id + " is unknown (expected: one of pp:dmabufs)");
        }
        return "unbound " + id + "; its queues are back on the default provider";
    }

    private DmaBufs dmabufs() {
        DmaBufs d = dmabufs;
        if (d == null) {
            throw new IllegalStateException("no device-memory provider: install provider.devmem");
        }
        return d;
    }

    /** "4096", "64K", "8M", "1G". */
    static long bytes(String s) {
        String t = s.trim().toUpperCase(java.util.Locale.ROOT);
        long unit = 1;
        if (t.endsWith("K") || t.endsWith("M") || t.endsWith("G")) {
            unit = switch (t.charAt(t.length() - 1)) {
                case 'K' -> 1L << 10;
                case 'M' -> 1L << 20;
                default -> 1L << 30;
            };
            t = t.substring(0, t.length() - 1);
        }
        try {
            return Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("size: '" + s + "' (expected: bytes, e.g. 4096, 64K, 8M, 1G)");
        }
    }

    private List<NetDevice> selected(String name) {
        List<NetDevice> all = devices == null ? List.of() : devices;
        if (name == null) {
            return all.stream().sorted(Comparator.comparing(NetDevice::name)).toList();
        }
        NetDevice d = device(name);
        if (d == null) {
            throw new IllegalArgumentException("device: '" + name + "' is unknown (expected: one of "
                    + all.stream().map(NetDevice::name).sorted().toList() + ")");
        }
        return List.of(d);
    }

    private NetDevice device(String name) {
        List<NetDevice> all = devices;
        return all == null ? null : all.stream().filter(d -> d.name().equals(name)).findFirst().orElse(null);
    }

    /** Whether --json is among the arguments; any other argument beyond {@code positional} is an error. */
    private static boolean json(String[] args, int positional) {
        boolean json = false;
        int others = 0;
        for (String a : args) {
            if (a.equals("--json")) {
                json = true;
            } else if (++others > positional) {
                throw new IllegalArgumentException("unexpected argument: '" + a + "' (expected: --json)");
            }
        }
        return json;
    }
}

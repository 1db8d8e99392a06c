package pagepool.shell;

import java.lang.System.Logger.Level;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import pagepool.api.Checks;
import pagepool.api.PoolInfo;
import pagepool.api.ProviderFaults;
import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.Change;
import pagepool.api.binding.DeviceInfo;
import pagepool.api.binding.PoolBindings;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.binding.QueueList;
import pagepool.api.config.ConfigProblem;
import pagepool.api.devmem.DevmemBindingInfo;
import pagepool.api.devmem.DmaBufInfo;
import pagepool.api.devmem.DmaBufs;
import pagepool.api.datagram.DatagramSender;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueDebug;

/**
 * The {@code pp} commands, after {@code ynl netdev page-pool-get / queue-get / bind-rx}. Each
 * prints a table, or JSON with {@code --json}. Bindings made here belong to this bundle (the
 * binding service is bundle-scoped): they stay while the shell bundle runs.
 *
 * <p>A command that cannot do what it is asked says why in one line, naming the value and what
 * was expected, and changes nothing: the shell prints the message only, never an exception's class
 * or a stack trace (those go to the log when something unexpected happens).
 */
@Component(service = PoolCommands.class, property = {"osgi.command.scope=pp",
        "osgi.command.function=pools", "osgi.command.function=queues", "osgi.command.function=providers",
        "osgi.command.function=provider_reset", "osgi.command.function=bindings", "osgi.command.function=devices",
        "osgi.command.function=bind", "osgi.command.function=unbind", "osgi.command.function=devstats",
        "osgi.command.function=traffic", "osgi.command.function=link", "osgi.command.function=pp_hold",
        "osgi.command.function=queue_reset", "osgi.command.function=problems", "osgi.command.function=dmabufs",
        "osgi.command.function=dmabuf_create", "osgi.command.function=dmabuf_bind",
        "osgi.command.function=dmabuf_unbind", "osgi.command.function=dmabuf_destroy", "osgi.command.function=udp_send",
        "osgi.command.function=monitor",
        "osgi.command.function=help"})
public final class PoolCommands {

    private static final System.Logger LOG = System.getLogger(PoolCommands.class.getName());

    private final PoolBindings bindings;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private volatile List<NetDevice> devices;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private volatile List<ConfigProblem> problems;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile DmaBufs dmabufs;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile DatagramSender sender;

    @Activate
    public PoolCommands(@Reference PoolBindings bindings) {
        this.bindings = bindings;
    }

    @Descriptor("the pp commands, or one command's arguments")
    public String help(@Descriptor("[command]") String... args) {
        return run("help", () -> {
            if (args.length > 1) {
                throw usage("help", "pp:help pp:bind");
            }
            List<Method> commands = Arrays.stream(PoolCommands.class.getMethods())
                    .filter(m -> m.isAnnotationPresent(Descriptor.class)).sorted(Comparator.comparing(Method::getName))
                    .toList();
            if (args.length == 1) {
                String name = args[0].startsWith("pp:") ? args[0].substring(3) : args[0];
                Method m = commands.stream().filter(c -> c.getName().equals(name)).findFirst().orElseThrow(
                        () -> Checks.invalid("command", "'" + args[0] + "'", "one of pp:help's list"));
                return usage(m) + "\n    " + m.getAnnotation(Descriptor.class).value();
            }
            StringBuilder b = new StringBuilder();
            for (Method m : commands) {
                String u = usage(m);
                b.append(u).append(u.length() < 44 ? " ".repeat(44 - u.length()) : "\n" + " ".repeat(44))
                        .append(m.getAnnotation(Descriptor.class).value()).append('\n');
            }
            return b.append("(help pp:<command> says the same in Gogo's words; add --json where offered)").toString();
        });
    }

    /** "usage: pp:bind <device> <queues> <provider>, e.g. pp:bind sim0 1,2 heap": from the annotations. */
    private static IllegalArgumentException usage(String command, String example) {
        Method m = Arrays.stream(PoolCommands.class.getMethods()).filter(c -> c.getName().equals(command)
                && c.isAnnotationPresent(Descriptor.class)).findFirst().orElseThrow();
        return new IllegalArgumentException("usage: " + usage(m) + ", e.g. " + example);
    }

    /** "pp:bind <device> <queues> <provider>", from the command's annotations: the one place usage is written. */
    private static String usage(Method m) {
        StringBuilder b = new StringBuilder("pp:").append(m.getName());
        String options = "";
        for (java.lang.reflect.Parameter p : m.getParameters()) {
            Parameter option = p.getAnnotation(Parameter.class);
            Descriptor d = p.getAnnotation(Descriptor.class);
            if (option != null) {
                options += " [" + String.join("|", option.names()) + "]";
            } else if (d != null && !d.value().equals("(nothing else)")) {
                b.append(' ').append(d.value());
            }
        }
        return b.append(options).toString();
    }

    @Descriptor("page pools with stats, inflight and provider faults (ynl page-pool-get)")
    public String pools(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("pools", () -> {
            boolean json = jsonOption | json(args, 0);
            // Which pool of a queue carries what: the queue's own (pp:queues' POOL) takes the data,
            // payloads on a header-split device; the other active one of such a device, the headers.
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
            Output out = new Output("id", "queue", "role", "provider", "state", "inflight", "inflight-bytes",
                    "pages-taken", "pages-returned", "detach-time", "stalled", "bad-releases", "faults", "stats",
                    "provider-info");
            for (PoolInfo p : bindings.pools()) {
                out.row(p.id(), p.queue() == null ? null : p.queue().toString(), role(p, dataPools, split), p.provider(),
                        p.state().name(), p.inflight(), p.inflightBytes(), p.holdCount(), p.releaseCount(),
                        p.detachTime() == null ? null : p.detachTime().toString(), p.stalled(), p.badReleases(),
                        faults(p.faults(), json), json ? new LinkedHashMap<>(p.stats().toMap()) : shortStats(p),
                        new LinkedHashMap<>(p.providerInfo()));
            }
            return out.render(json);
        });
    }

    /**
     * "payload" and "header" for the two active pools of a header-split queue, "data" for the one
     * pool of another queue, null for a pool no queue runs on (detached, or not a queue's).
     */
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

    /** The counters that tell the paths apart, for the table. */
    private static String shortStats(PoolInfo p) {
        var s = p.stats();
        return "fast=" + s.allocFast() + " slow=" + s.allocSlow() + " refill=" + s.allocRefill() + " empty="
                + s.allocEmpty() + " cached=" + s.recycleCached() + " ring=" + s.recycleRing() + " ring-full="
                + s.recycleRingFull();
    }

    /** Faults by call: a map for JSON, the non-zero ones and the last for people. */
    private static Object faults(ProviderFaults f, boolean json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("init", f.init());
        m.put("alloc", f.alloc());
        m.put("release", f.release());
        m.put("destroy", f.destroy());
        m.put("other", f.other());
        if (json) {
            m.put("last", f.last());
            return m;
        }
        if (f.total() == 0) {
            return 0;
        }
        m.values().removeIf(v -> v instanceof Long l && l == 0);
        return m + " last: " + f.last();
    }

    @Descriptor("RX queues, the provider behind each, state and restarts (ynl queue-get)")
    public String queues(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("queues", () -> {
            boolean json = jsonOption | json(args, 0);
            Output out = new Output("queue", "provider", "binding", "pool", "state", "restarts", "message");
            for (QueueInfo q : bindings.queues()) {
                out.row(q.queue().toString(), q.provider(), q.bindingId() == 0 ? null : q.bindingId(),
                        q.poolId() == 0 ? null : q.poolId(), q.state().name(), q.restarts(), q.message());
            }
            return out.render(json);
        });
    }

    @Descriptor("memory providers: the default, faults, quarantine")
    public String providers(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("providers", () -> {
            boolean json = jsonOption | json(args, 0);
            Output out = new Output("name", "readable", "default", "ranking", "pools", "state", "faults", "message");
            for (ProviderInfo p : bindings.providers()) {
                out.row(p.name(), p.readable(), p.isDefault(), p.ranking(), p.pools(), p.state().name(),
                        faults(p.faults(), json), p.message());
            }
            return out.render(json);
        });
    }

    @Descriptor("lift a provider's quarantine and forget its faults")
    public String provider_reset(@Descriptor("<provider>") String... args) {
        return run("provider_reset", () -> {
            if (args.length != 1) {
                throw usage("provider_reset", "pp:provider_reset testmem");
            }
            ProviderInfo p = bindings.resetProvider(args[0]);
            return "provider " + p.name() + ": " + p.state() + ", faults forgotten; queues bound to it use it again";
        });
    }

    @Descriptor("bindings of queues to providers, with their owner and origin")
    public String bindings(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("bindings", () -> {
            boolean json = jsonOption | json(args, 0);
            return bindingRows(bindings.bindings()).render(json);
        });
    }

    /** Bindings as pp:bindings shows them: the rows of pp:bind --json and pp:unbind --json too. */
    private static Output bindingRows(List<BindingInfo> list) {
        Output out = new Output("id", "device", "queues", "provider", "owner", "origin", "state", "message");
        for (BindingInfo b : list) {
            out.row(b.id(), b.device(), b.queues(), b.provider(), b.owner(), b.origin(), b.state().name(), b.message());
        }
        return out;
    }

    @Descriptor("network devices, their details, and device configurations refused")
    public String devices(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("devices", () -> {
            boolean json = jsonOption | json(args, 0);
            Output out = new Output("name", "rx-queues", "header-split", "up", "carrier", "details", "config", "message");
            List<ConfigProblem> refused = problems("device ");
            for (DeviceInfo d : bindings.devices()) {
                NetDevice dev = device(d.name());
                ConfigProblem p = refused.stream().filter(x -> x.subject().equals("device " + d.name())).findFirst()
                        .orElse(null);
                out.row(d.name(), d.rxQueues(), d.headerSplit(), d.up(), dev != null && carrier(dev), details(dev),
                        p == null ? "applied" : "refused", p == null ? "" : p.source() + ": " + p.message());
                refused.remove(p);
            }
            for (ConfigProblem p : refused) {
                out.row(p.subject().substring("device ".length()), null, null, null, null, null, "refused",
                        p.source() + ": " + p.message());
            }
            return out.render(json);
        });
    }

    /** The driver's details, "key=value key=value"; what it throws is said in their place. */
    private static String details(NetDevice dev) {
        if (dev == null) {
            return "";
        }
        try {
            StringBuilder b = new StringBuilder();
            new java.util.TreeMap<>(dev.details()).forEach((k, v) -> b.append(b.isEmpty() ? "" : " ").append(k).append('=')
                    .append(v));
            return b.toString();
        } catch (RuntimeException e) {
            return "details failed: " + e;
        }
    }

    private static boolean carrier(NetDevice dev) {
        try {
            return dev.carrier();
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Descriptor("configurations and jars the runtime refused, and why")
    public String problems(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("problems", () -> {
            boolean json = jsonOption | json(args, 0);
            Output out = new Output("source", "subject", "message", "since");
            for (ConfigProblem p : problems("")) {
                out.row(p.source(), p.subject(), p.message(), p.since().toString());
            }
            // A binding that cannot apply (a file naming queues the device lacks, a quarantined
            // provider) is a refusal too, standing until it is fixed or removed.
            for (BindingInfo b : bindings.bindings()) {
                if (b.state() == BindingInfo.State.FAILED) {
                    out.row(b.origin().isEmpty() ? b.owner() : b.origin(), "binding " + b.id() + " (" + b.device() + " "
                            + b.queues() + " -> " + b.provider() + ")", b.message(), null);
                }
            }
            return out.render(json);
        });
    }

    /** Refusals standing whose subject starts with {@code prefix}, oldest first. */
    private List<ConfigProblem> problems(String prefix) {
        List<ConfigProblem> all = problems;
        List<ConfigProblem> out = new ArrayList<>();
        if (all != null) {
            all.stream().filter(p -> p.subject().startsWith(prefix)).sorted(Comparator.comparing(ConfigProblem::since))
                    .forEach(out::add);
        }
        return out;
    }

    @Descriptor("bind queues (a list like 1,2 or a range like 0-3) to a provider (ynl bind-rx); they restart onto it")
    public String bind(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("<device> <queues> <provider>") String... words) {
        return run("bind", () -> {
            boolean json = jsonOption || Arrays.asList(words).contains("--json");
            String[] args = withoutJson(words);
            if (args.length != 3) {
                throw usage("bind", "pp:bind sim0 1,2 heap");
            }
            List<Integer> queues = QueueList.parse(args[1]);
            // A typo must not pass as a binding that waits: the shell binds to providers present
            // (a .cfg binding file may name one that comes later).
            List<String> present = bindings.providers().stream().map(ProviderInfo::name).sorted().toList();
            if (!present.contains(args[2])) {
                throw Checks.invalid("provider", "'" + args[2] + "' is not present", "one of " + present
                        + "; install its bundle first, or bind it with a pagepool.binding-<name>.cfg file, which"
                        + " waits for it");
            }
            BindingInfo b = bindings.bind(args[0], queues, args[2], "pp:bind");
            if (json) {
                return bindingRows(List.of(b)).render(true);
            }
            return "binding " + b.id() + ": " + b.device() + " queues " + b.queues() + " -> " + b.provider() + " "
                    + b.state() + (b.message().isEmpty() ? "" : " (" + b.message() + ")");
        });
    }

    @Descriptor("back to the default provider (bindings made in the shell only)")
    public String unbind(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("<device> <queues>") String... words) {
        return run("unbind", () -> {
            boolean json = jsonOption || Arrays.asList(words).contains("--json");
            String[] args = withoutJson(words);
            if (args.length != 2) {
                throw usage("unbind", "pp:unbind sim0 1");
            }
            List<BindingInfo> gone = bindings.unbind(args[0], QueueList.parse(args[1]));
            if (json) {
                return bindingRows(gone).render(true);
            }
            StringBuilder sb = new StringBuilder();
            for (BindingInfo b : gone) {
                sb.append(sb.isEmpty() ? "" : "\n").append("removed binding ").append(b.id()).append(": ")
                        .append(b.device()).append(" queues ").append(b.queues()).append(" -> ").append(b.provider());
            }
            return sb.toString();
        });
    }

    @Descriptor("per-queue device counters (ethtool -S)")
    public String devstats(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("[device]") String... args) {
        return run("devstats", () -> {
            boolean json = jsonOption | json(args, 1);
            String only = Arrays.stream(args).filter(a -> !a.equals("--json")).findFirst().orElse(null);
            List<NetDevice> devs = selected(only);
            List<String> columns = new ArrayList<>(List.of("queue"));
            List<Map<String, Object>> rows = new ArrayList<>();
            for (NetDevice d : devs) {
                String name = d.name();
                for (int q = 0; q < d.rxQueueCount(); q++) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("queue", name + "/" + q);
                    Map<String, Long> stats;
                    try {
                        stats = d.queueStats(q);
                    } catch (RuntimeException e) {
                        // The driver is someone else's code: one bad answer does not hide the others.
                        stats = Map.of();
                        row.put("error", "queueStats failed: " + e.getMessage());
                        if (!columns.contains("error")) {
                            columns.add("error");
                        }
                    }
                    for (Map.Entry<String, Long> e : stats.entrySet()) {
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
        });
    }

    @Descriptor("carrier on or off: traffic flows or stops")
    public String traffic(@Descriptor("on|off [device]") String... args) {
        return run("traffic", () -> {
            if (args.length < 1 || args.length > 2) {
                throw usage("traffic", "pp:traffic off sim0");
            }
            word("carrier", args[0], "on", "off");
            boolean up = args[0].equals("on");
            List<NetDevice> devs = selected(args.length == 2 ? args[1] : null);
            devs.forEach(d -> d.setCarrier(up));
            return "traffic " + args[0] + ": " + devs.stream().map(NetDevice::name).toList();
        });
    }

    @Descriptor("ip link set up|down: down stops the queues and frees the rings")
    public String link(@Descriptor("<device> up|down") String... args) {
        return run("link", () -> {
            if (args.length != 2) {
                throw usage("link", "pp:link sim0 down");
            }
            word("state", args[1], "up", "down");
            boolean up = args[1].equals("up");
            NetDevice dev = selected(args[0]).get(0);
            dev.setAdminUp(up);
            // The engine applies it within its health interval; say so when it has.
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (bindings.devices().stream().noneMatch(d -> d.name().equals(args[0]) && d.up() == up)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(args[0] + " was set " + args[1] + " but the engine did not apply it"
                            + " within 10 s");
                }
                sleep();
            }
            long detached = bindings.pools().stream().filter(p -> p.queue() != null && p.queue().device().equals(args[0])
                    && p.state() == PoolInfo.State.DETACHED).count();
            return args[0] + ": " + (up ? "up; its queues run on new memory"
                    : "down; its queues are stopped and their rings freed" + (detached == 0 ? ""
                            : " (" + detached + " pool(s) detached until consumers give their pages back)"));
        });
    }

    /** One of two words, or the one-line refusal naming what was given. */
    private static void word(String what, String given, String one, String other) {
        if (!given.equals(one) && !given.equals(other)) {
            throw Checks.invalid(what, "'" + given + "'", one + " or " + other);
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    @Descriptor("hold a page of the queue's pool outside it, or give it back (netdevsim's pp_hold)")
    public String pp_hold(@Descriptor("<device> <queue> on|off") String... args) {
        return run("pp_hold", () -> {
            if (args.length != 3) {
                throw usage("pp_hold", "pp:pp_hold sim0 1 on");
            }
            word("hold", args[2], "on", "off");
            QueueDebug dbg = debug(args[0]);
            int q = queueIndex(args[0], args[1]);
            if (args[2].equals("on")) {
                if (!dbg.holdPage(q)) {
                    throw new IllegalStateException(args[0] + "/" + q + " has no page to hold (expected: a running queue)");
                }
            } else {
                dbg.releaseHeldPages(q);
            }
            return args[0] + "/" + q + ": " + dbg.heldPages(q) + " page(s) held outside the pool";
        });
    }

    @Descriptor("restart a queue onto new memory")
    public String queue_reset(@Descriptor("<device> <queue> [pool|napi|napi-stopped-first]") String... args) {
        return run("queue_reset", () -> {
            if (args.length < 2 || args.length > 3) {
                throw usage("queue_reset", "pp:queue_reset sim0 1 napi");
            }
            int q = queueIndex(args[0], args[1]);
            if (args.length == 3) {
                QueueDebug.ResetMode mode = switch (args[2]) {
                    case "pool" -> QueueDebug.ResetMode.POOL;
                    case "napi" -> QueueDebug.ResetMode.NAPI;
                    case "napi-stopped-first" -> QueueDebug.ResetMode.NAPI_STOPPED_FIRST;
                    default -> throw Checks.invalid("mode", "'" + args[2] + "'", "pool, napi or napi-stopped-first");
                };
                debug(args[0]).resetMode(mode);
            }
            QueueInfo info = bindings.restartQueue(args[0], q);
            return info.queue() + ": " + info.state() + " on " + (info.provider().isEmpty() ? "no memory" : info.provider())
                    + (info.poolId() == 0 ? "" : ", pool " + info.poolId()) + (info.message().isEmpty() ? ""
                            : " (" + info.message() + ")");
        });
    }

    private QueueDebug debug(String device) {
        NetDevice dev = selected(device).get(0);
        if (!(dev instanceof QueueDebug dbg)) {
            throw new IllegalArgumentException("device " + device + " has no debugging aids (expected: a simulated"
                    + " device)");
        }
        return dbg;
    }

    private int queueIndex(String device, String text) {
        NetDevice dev = selected(device).get(0);
        int q;
        try {
            q = Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            q = -1;
        }
        if (q < 0 || q >= dev.rxQueueCount()) {
            throw Checks.invalid("queue", "'" + text + "'", "0.." + (dev.rxQueueCount() - 1) + " on " + device);
        }
        return q;
    }

    @Descriptor("device-memory buffers and their bindings, with chunk use")
    public String dmabufs(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("dmabufs", () -> {
            boolean json = jsonOption | json(args, 0);
            DmaBufs d = dmabufs();
            // dmabuf-binding: ids of pp:dmabuf_bind, not of pp:bind's bindings (pp:queues' BINDING).
            Output buffers = new Output("buffer", "size", "owner", "dmabuf-binding");
            for (DmaBufInfo b : d.buffers()) {
                buffers.row(b.id(), b.size(), b.owner(), b.binding() == 0 ? null : b.binding());
            }
            Output bound = new Output("dmabuf-binding", "buffer", "device", "queues", "provider", "chunks",
                    "chunks-free", "chunks-out", "state");
            for (DevmemBindingInfo b : d.bindings()) {
                bound.row(b.id(), b.buffer(), b.device(), b.queues(), b.provider(), b.chunks(), b.chunksFree(),
                        b.chunksOut(), b.state().name());
            }
            if (json) {
                return "{\"buffers\":" + buffers.render(true) + ",\"bindings\":" + bound.render(true) + "}";
            }
            return buffers.render(false) + "\n\n" + bound.render(false);
        });
    }

    @Descriptor("a device-memory buffer of <bytes>: a multiple of 4096, with K, M or G as suffix")
    public String dmabuf_create(@Descriptor("<bytes>") String... args) {
        return run("dmabuf_create", () -> {
            if (args.length != 1) {
                throw usage("dmabuf_create", "pp:dmabuf_create 64M");
            }
            DmaBufInfo b = dmabufs().create(bytes(args[0]));
            return "buffer " + b.id() + ": " + b.size() + " bytes of device memory";
        });
    }

    @Descriptor("bind a buffer to RX queues of a header-split device")
    public String dmabuf_bind(@Descriptor("<buffer> <device> <queues>") String... args) {
        return run("dmabuf_bind", () -> {
            if (args.length != 3) {
                throw usage("dmabuf_bind", "pp:dmabuf_bind 1 sim1 1,2");
            }
            int buffer = id(args[0], "buffer", "a buffer id, see pp:dmabufs");
            DevmemBindingInfo b = dmabufs().bind(buffer, args[1], QueueList.parse(args[2]));
            return "binding " + b.id() + ": buffer " + b.buffer() + " -> " + b.device() + " queues " + b.queues()
                    + " as " + b.provider() + " (" + b.chunks() + " chunks)";
        });
    }

    @Descriptor("unbind a buffer: its queues go back to the default provider")
    public String dmabuf_unbind(@Descriptor("<dmabuf-binding>") String... args) {
        return run("dmabuf_unbind", () -> {
            if (args.length != 1) {
                throw usage("dmabuf_unbind", "pp:dmabuf_unbind 1");
            }
            long id = id(args[0], "binding", "a binding id, see pp:dmabufs");
            if (!dmabufs().unbind(id)) {
                throw Checks.invalid("binding", id + " is unknown", "one of pp:dmabufs");
            }
            return "unbound " + id + "; its queues are back on the default provider";
        });
    }

    @Descriptor("destroy a buffer, unbinding it first")
    public String dmabuf_destroy(@Descriptor("<buffer>") String... args) {
        return run("dmabuf_destroy", () -> {
            if (args.length != 1) {
                throw usage("dmabuf_destroy", "pp:dmabuf_destroy 1");
            }
            int id = id(args[0], "buffer", "a buffer id, see pp:dmabufs");
            if (!dmabufs().destroy(id)) {
                throw Checks.invalid("buffer", id + " is unknown", "one of pp:dmabufs");
            }
            return "destroyed buffer " + id + "; its memory is freed once its chunks are back";
        });
    }

    private static int id(String text, String what, String expected) {
        try {
            int id = Integer.parseInt(text.strip());
            if (id > 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw Checks.invalid(what, "'" + text + "'", expected);
    }

    /**
     * Prints changes as they happen, one line each, until interrupted (Ctrl-C) or for
     * {@code seconds}: pools added, detached and destroyed, queues moving between providers.
     */
    @Descriptor("changes as they happen: pools added, detached, destroyed; queues changing provider or state"
            + " (ynl --subscribe page-pool), for <seconds> or until Ctrl-C")
    public String monitor(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("[seconds]") String... args) {
        return run("monitor", () -> {
            boolean json = jsonOption || Arrays.asList(args).contains("--json");
            List<String> rest = Arrays.stream(args).filter(a -> !a.equals("--json")).toList();
            if (rest.size() > 1) {
                throw usage("monitor", "pp:monitor 10");
            }
            long seconds = rest.isEmpty() ? 0 : number("seconds", rest.get(0), 0, 86_400);
            java.util.concurrent.BlockingQueue<Change> queue = new java.util.concurrent.LinkedBlockingQueue<>();
            long seen = 0;
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(seconds);
            try (Change.Subscription s = bindings.subscribe(queue::add)) {
                while (seconds == 0 || System.nanoTime() - deadline < 0) {
                    Change c = queue.poll(seconds == 0 ? 1_000_000_000L : Math.max(1, deadline - System.nanoTime()),
                            java.util.concurrent.TimeUnit.NANOSECONDS);
                    if (c != null) {
                        System.out.println(json ? changeJson(c) : changeLine(c));
                        System.out.flush();
                        seen++;
                    }
                }
            } catch (InterruptedException e) {
                // Ctrl-C: the end asked for. The interrupt is spent here, so the summary still prints.
            }
            return json ? "" : "monitor: " + seen + " change(s)";
        });
    }

    static String changeLine(Change c) {
        String when = java.time.LocalTime.ofInstant(c.time(), java.time.ZoneId.systemDefault())
                .truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString();
        String queue = c.queue() == null ? "no queue" : "queue " + c.queue();
        return when + "  " + switch (c.kind()) {
            case POOL_ADDED -> "pool " + c.pool() + " added: " + queue + ", provider " + c.provider();
            case POOL_DETACHED -> "pool " + c.pool() + " detached: " + queue + ", provider " + c.provider() + ", "
                    + c.detail();
            case POOL_DESTROYED -> "pool " + c.pool() + " destroyed: " + queue + ", provider " + c.provider();
            case QUEUE_CHANGED -> queue + " on " + (c.provider().isEmpty() ? "nothing" : c.provider()) + ": "
                    + c.detail();
        };
    }

    static String changeJson(Change c) {
        String array = new Output("time", "kind", "pool", "queue", "provider", "detail").row(c.time().toString(),
                c.kind().name(), c.pool(), c.queue() == null ? null : c.queue().toString(), c.provider(), c.detail())
                .render(true);
        return array.substring(1, array.length() - 1);
    }

    /**
     * Sends verifiable datagrams to a device by name (the address it receives on, from its
     * details) or to any host:port, and says how many went and how fast.
     */
    @Descriptor("send verifiable UDP datagrams to a device or any host:port: <size> bytes (1472), <count> of them"
            + " (100000), <rate> per second (0, the default: as fast as possible)")
    public String udp_send(@Descriptor("<device|host:port> [size] [count] [rate]") String... args) {
        return run("udp_send", () -> {
            if (args.length < 1 || args.length > 4) {
                throw usage("udp_send", "pp:udp_send udp0 1472 100000");
            }
            DatagramSender s = sender;
            if (s == null) {
                throw new IllegalStateException("no datagram sender: install driver.uring"
                        + " (copy extra/driver.uring-*.jar into load/)");
            }
            String target = args[0];
            NetDevice dev = device(target);
            if (dev != null) {
                Object address = dev.details().get("address");
                if (address == null) {
                    throw Checks.invalid("device", "'" + target + "' has no address", "a UDP device, e.g. udp0");
                }
                target = address.toString();
            }
            int colon = target.lastIndexOf(':');
            if (colon <= 0) {
                throw Checks.invalid("target", "'" + args[0] + "'", "a device or host:port");
            }
            int port = (int) number("port", target.substring(colon + 1), 1, 65535);
            int size = args.length > 1 ? (int) number("size", args[1], 64, 65507) : 1472;
            long count = args.length > 2 ? number("count", args[2], 1, Long.MAX_VALUE) : 100_000;
            long rate = args.length > 3 ? number("rate", args[3], 0, Long.MAX_VALUE) : 0;
            InetSocketAddress to = new InetSocketAddress(target.substring(0, colon), port);
            if (to.isUnresolved()) {
                throw Checks.invalid("host", "'" + target.substring(0, colon) + "'", "an IPv4 address or a name that"
                        + " resolves");
            }
            DatagramSender.SendReport r = s.send(to, size, count, rate);
            return String.format(java.util.Locale.ROOT, "sent %d datagrams of %d bytes to %s in %.3f s (%.0f/s)%s",
                    r.sent(), size, target, r.nanos() / 1e9, r.perSecond(), r.failed() == 0 ? ""
                            : "; " + r.failed() + " refused by the kernel");
        });
    }

    private static long number(String what, String text, long min, long max) {
        try {
            long n = Long.parseLong(text.strip().replace("_", ""));
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw Checks.invalid(what, "'" + text + "'", max == Long.MAX_VALUE ? "an integer of at least " + min
                : "an integer in " + min + ".." + max);
    }

    private DmaBufs dmabufs() {
        DmaBufs d = dmabufs;
        if (d == null) {
            throw new IllegalStateException("no device-memory provider: install provider.devmem"
                    + " (copy extra/provider.devmem-*.jar into load/)");
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
            long n = Long.parseLong(t);
            if (n > 0) {
                return Math.multiplyExact(n, unit);
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // said below
        }
        throw Checks.invalid("size", "'" + s + "'", "a positive number of bytes, e.g. 4096, 64K, 8M, 1G");
    }

    private List<NetDevice> selected(String name) {
        List<NetDevice> all = devices == null ? List.of() : devices;
        if (name == null) {
            return all.stream().sorted(Comparator.comparing(NetDevice::name)).toList();
        }
        NetDevice d = device(name);
        if (d == null) {
            throw Checks.invalid("device", "'" + name + "' is unknown",
                    "one of " + all.stream().map(NetDevice::name).sorted().toList());
        }
        return List.of(d);
    }

    private NetDevice device(String name) {
        List<NetDevice> all = devices;
        return all == null ? null : all.stream().filter(d -> d.name().equals(name)).findFirst().orElse(null);
    }

    /** The arguments but --json, which Gogo leaves among them when it follows a positional one. */
    private static String[] withoutJson(String[] args) {
        return Arrays.stream(args).filter(a -> !a.equals("--json")).toArray(String[]::new);
    }

    /** Whether --json is among the arguments; any other argument beyond {@code positional} is an error. */
    private static boolean json(String[] args, int positional) {
        boolean json = false;
        int others = 0;
        for (String a : args) {
            if (a.equals("--json")) {
                json = true;
            } else if (++others > positional) {
                throw Checks.invalid("unexpected argument", "'" + a + "'",
                        (positional == 0 ? "" : "at most " + positional + " name and ") + "--json");
            }
        }
        return json;
    }

    /**
     * Runs a command: what it refuses is said in one line; anything unexpected is logged with its
     * trace and said in one line too.
     */
    private static String run(String command, Supplier<String> body) {
        try {
            return body.get();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new CommandFailure(e.getMessage());
        } catch (RuntimeException | Error e) {
            LOG.log(Level.ERROR, "pp:" + command + " failed", e);
            throw new CommandFailure("pp:" + command + " failed: " + (e.getMessage() != null ? e.getMessage()
                    : e.getClass().getSimpleName()) + " (details in the log)");
        }
    }
}

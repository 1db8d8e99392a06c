package pagepool.shell;

import java.lang.System.Logger.Level;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import pagepool.api.Checks;
import pagepool.api.PoolInfo;
import pagepool.api.ProviderFaults;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.Change;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.binding.QueueList;
import pagepool.api.binding.RestartLatency;
import pagepool.api.config.ConfigProblem;
import pagepool.api.control.Control;
import pagepool.api.control.Device;
import pagepool.api.control.DmaBufList;
import pagepool.api.control.Pool;
import pagepool.api.control.QueueCounters;
import pagepool.api.datagram.DatagramSender;
import pagepool.api.devmem.DevmemBindingInfo;
import pagepool.api.devmem.DmaBufInfo;
import pagepool.api.queue.QueueDebug;

/**
 * The {@code pp} commands, after {@code ynl netdev page-pool-get / queue-get / bind-rx}: the
 * text face of the control plane ({@link Control}). Each parses its words, calls the control
 * plane, which checks them, and prints a table, or with {@code --json} the control plane's own
 * JSON, the same the HTTP API serves. Bindings made here belong to the control plane, shared by
 * every operator.
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
        "osgi.command.function=monitor", "osgi.command.function=restarts",
        "osgi.command.function=help"})
public final class PoolCommands {

    private static final System.Logger LOG = System.getLogger(PoolCommands.class.getName());

    private final Control control;

    @Activate
    public PoolCommands(@Reference Control control) {
        this.control = control;
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

    @Descriptor("page pools: inflight, pages taken and returned, faults (ynl page-pool-get); with an id, one pool's"
            + " counters by their page-pool-stats-get names")
    public String pools(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("[pool]") String... args) {
        return run("pools", () -> {
            boolean json = jsonOption | json(args, 1);
            String[] rest = withoutJson(args);
            List<Pool> pools = control.pools();
            if (rest.length == 1) {
                int id = id(rest[0], "pool", "a pool id, see pp:pools");
                Pool p = pools.stream().filter(x -> x.id() == id).findFirst().orElseThrow(() -> Checks.invalid("pool",
                        id + " is unknown", "one of " + pools.stream().map(Pool::id).toList()));
                return json ? control.json(p) : pool(p);
            }
            if (json) {
                return control.json(pools);
            }
            Output out = new Output("id", "queue", "role", "provider", "state", "inflight", "inflight-mem",
                    "pages-taken", "pages-returned", "detach-time", "faults");
            for (Pool p : pools) {
                out.row(p.id(), p.queue(), p.role(), p.provider(), p.state().name(), p.inflight(), p.inflightMem(),
                        p.pagesTaken(), p.pagesReturned(), p.detachTime(), faults(p.faults()));
            }
            return out.render();
        });
    }

    /** One pool, a line a field: every counter under the name JSON and /metrics give it. */
    private static String pool(Pool p) {
        Output out = new Output("field", "value");
        out.row("id", p.id()).row("queue", p.queue()).row("role", p.role()).row("provider", p.provider())
                .row("state", p.state().name()).row("inflight", p.inflight()).row("inflight-mem", p.inflightMem())
                .row("pages-taken", p.pagesTaken()).row("pages-returned", p.pagesReturned())
                .row("detach-time", p.detachTime()).row("stalled", p.stalled()).row("bad-releases", p.badReleases())
                .row("faults", faults(p.faults()));
        p.providerInfo().forEach((k, v) -> out.row("provider-info." + k, v));
        p.stats().toMap().forEach((k, v) -> out.row("stats." + k, v));
        return out.render();
    }

    /** Faults for people: the non-zero counts and the last, or 0. */
    private static Object faults(ProviderFaults f) {
        if (f.total() == 0) {
            return 0;
        }
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("init", f.init());
        m.put("alloc", f.alloc());
        m.put("release", f.release());
        m.put("destroy", f.destroy());
        m.put("other", f.other());
        m.values().removeIf(v -> v == 0);
        return m + " last: " + f.last();
    }

    @Descriptor("RX queues, the provider behind each, state and restarts (ynl queue-get)")
    public String queues(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("queues", () -> {
            List<QueueInfo> queues = control.queues();
            if (jsonOption | json(args, 0)) {
                return control.json(queues);
            }
            Output out = new Output("queue", "provider", "binding-id", "pool-id", "state", "restarts", "message");
            for (QueueInfo q : queues) {
                out.row(q.queue(), q.provider(), q.bindingId() == 0 ? null : q.bindingId(),
                        q.poolId() == 0 ? null : q.poolId(), q.state().name(), q.restarts(), q.message());
            }
            return out.render();
        });
    }

    @Descriptor("memory providers: the default, faults, quarantine")
    public String providers(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("providers", () -> {
            List<ProviderInfo> providers = control.providers();
            if (jsonOption | json(args, 0)) {
                return control.json(providers);
            }
            Output out = new Output("name", "readable", "is-default", "ranking", "pools", "state", "faults", "message");
            for (ProviderInfo p : providers) {
                out.row(p.name(), p.readable(), p.isDefault(), p.ranking(), p.pools(), p.state().name(),
                        faults(p.faults()), p.message());
            }
            return out.render();
        });
    }

    @Descriptor("lift a provider's quarantine and forget its faults")
    public String provider_reset(@Descriptor("<provider>") String... args) {
        return run("provider_reset", () -> {
            if (args.length != 1) {
                throw usage("provider_reset", "pp:provider_reset testmem");
            }
            ProviderInfo p = control.providerReset(args[0]);
            return "provider " + p.name() + ": " + p.state() + ", faults forgotten; queues bound to it use it again";
        });
    }

    @Descriptor("bindings of queues to providers, with their owner and origin")
    public String bindings(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("bindings", () -> {
            List<BindingInfo> list = control.bindings();
            return jsonOption | json(args, 0) ? control.json(list) : bindingRows(list).render();
        });
    }

    @Descriptor("how long queue restarts took since start: a histogram of the time until a queue ran on its new"
            + " memory, hitless swaps and failures")
    public String restarts(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("restarts", () -> {
            RestartLatency l = control.restartLatency();
            if (jsonOption | json(args, 0)) {
                return control.json(l);
            }
            Output out = new Output("at-most", "restarts", "cumulative");
            long seen = 0;
            for (int i = 0; i < l.counts().size(); i++) {
                seen += l.counts().get(i);
                out.row(i < l.boundsNanos().size() ? duration(l.boundsNanos().get(i)) : "longer", l.counts().get(i),
                        seen);
            }
            return out.render() + "\n" + l.count() + " restart(s), " + l.hitless() + " hitless, mean "
                    + (l.count() == 0 ? "-" : duration(l.sumNanos() / l.count())) + "; " + l.failed() + " failed";
        });
    }

    /** 10 us, 2.5 ms, 1 s. */
    private static String duration(long nanos) {
        if (nanos < 1_000_000) {
            return trim(nanos / 1e3) + " us";
        }
        return nanos < 1_000_000_000 ? trim(nanos / 1e6) + " ms" : trim(nanos / 1e9) + " s";
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.format(java.util.Locale.ROOT, "%.1f", v);
    }

    /** Bindings as pp:bindings shows them: pp:unbind's answer too. */
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
            List<Device> devices = control.devices();
            if (jsonOption | json(args, 0)) {
                return control.json(devices);
            }
            Output out = new Output("name", "rx-queues", "header-split", "up", "carrier", "details", "config", "message");
            for (Device d : devices) {
                out.row(d.name(), d.rxQueues(), d.headerSplit(), d.up(), d.carrier(), d.details(), d.config(),
                        d.message());
            }
            return out.render();
        });
    }

    @Descriptor("configurations and jars the runtime refused, and bindings that cannot apply, and why")
    public String problems(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("problems", () -> {
            List<ConfigProblem> problems = control.problems();
            if (jsonOption | json(args, 0)) {
                return control.json(problems);
            }
            Output out = new Output("source", "subject", "message", "since");
            for (ConfigProblem p : problems) {
                out.row(p.source(), p.subject(), p.message(), p.since());
            }
            return out.render();
        });
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
            BindingInfo b = control.bind(args[0], QueueList.parse(args[1]), args[2], "pp:bind");
            if (json) {
                return control.json(List.of(b));
            }
            return "binding " + b.id() + ": " + b.device() + " queues " + b.queues() + " -> " + b.provider() + " "
                    + b.state() + (b.message().isEmpty() ? "" : " (" + b.message() + ")");
        });
    }

    @Descriptor("back to the default provider (bindings made by operators: shell, client, HTTP)")
    public String unbind(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("<device> <queues>") String... words) {
        return run("unbind", () -> {
            boolean json = jsonOption || Arrays.asList(words).contains("--json");
            String[] args = withoutJson(words);
            if (args.length != 2) {
                throw usage("unbind", "pp:unbind sim0 1");
            }
            List<BindingInfo> gone = control.unbind(args[0], QueueList.parse(args[1]));
            if (json) {
                return control.json(gone);
            }
            StringBuilder sb = new StringBuilder();
            for (BindingInfo b : gone) {
                sb.append(sb.isEmpty() ? "" : "\n").append("removed binding ").append(b.id()).append(": ")
                        .append(b.device()).append(" queues ").append(b.queues()).append(" -> ").append(b.provider());
            }
            return sb.toString();
        });
    }

    /** Devices' queues per table: a counter a row, at most this many queues a table, so it fits a terminal. */
    private static final int DEVSTATS_QUEUES = 6;

    @Descriptor("per-queue device counters (ethtool -S): a counter a row, a queue a column")
    public String devstats(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("[device]") String... args) {
        return run("devstats", () -> {
            boolean json = jsonOption | json(args, 1);
            String[] rest = withoutJson(args);
            List<QueueCounters> all = control.devstats(rest.length == 0 ? null : rest[0]);
            if (json) {
                return control.json(all);
            }
            StringBuilder b = new StringBuilder();
            for (int from = 0; from < all.size(); from += DEVSTATS_QUEUES) {
                List<QueueCounters> part = all.subList(from, Math.min(all.size(), from + DEVSTATS_QUEUES));
                List<String> columns = new ArrayList<>(List.of("counter"));
                part.forEach(q -> columns.add(q.queue().toString()));
                List<String> names = new ArrayList<>();
                part.forEach(q -> q.counters().keySet().stream().filter(k -> !names.contains(k)).forEach(names::add));
                Output out = new Output(columns.toArray(String[]::new));
                for (String n : names) {
                    List<Object> row = new ArrayList<>(List.of(n));
                    part.forEach(q -> row.add(q.counters().get(n)));
                    out.row(row.toArray());
                }
                if (part.stream().anyMatch(q -> !q.error().isEmpty())) {
                    List<Object> row = new ArrayList<>(List.of("error"));
                    part.forEach(q -> row.add(q.error()));
                    out.row(row.toArray());
                }
                b.append(b.isEmpty() ? "" : "\n\n").append(out.render());
            }
            return b.isEmpty() ? "(no devices)" : b.toString();
        });
    }

    @Descriptor("carrier on or off: traffic flows or stops")
    public String traffic(@Descriptor("on|off [device]") String... args) {
        return run("traffic", () -> {
            if (args.length < 1 || args.length > 2) {
                throw usage("traffic", "pp:traffic off sim0");
            }
            boolean on = word("carrier", args[0], "on", "off");
            return "traffic " + args[0] + ": " + control.traffic(args.length == 2 ? args[1] : null, on);
        });
    }

    @Descriptor("ip link set up|down: down stops the queues and frees the rings")
    public String link(@Descriptor("<device> up|down") String... args) {
        return run("link", () -> {
            if (args.length != 2) {
                throw usage("link", "pp:link sim0 down");
            }
            boolean up = word("state", args[1], "up", "down");
            control.link(args[0], up);
            long detached = control.pools().stream().filter(p -> p.queue() != null
                    && p.queue().device().equals(args[0]) && p.state() == PoolInfo.State.DETACHED).count();
            return args[0] + ": " + (up ? "up; its queues run on new memory"
                    : "down; its queues are stopped and their rings freed" + (detached == 0 ? ""
                            : " (" + detached + " pool(s) detached until consumers give their pages back)"));
        });
    }

    /** True for {@code one}, false for {@code other}, else the one-line refusal naming what was given. */
    private static boolean word(String what, String given, String one, String other) {
        if (!given.equals(one) && !given.equals(other)) {
            throw Checks.invalid(what, "'" + given + "'", one + " or " + other);
        }
        return given.equals(one);
    }

    @Descriptor("hold a page of the queue's pool outside it, or give it back (netdevsim's pp_hold)")
    public String pp_hold(@Descriptor("<device> <queue> on|off") String... args) {
        return run("pp_hold", () -> {
            if (args.length != 3) {
                throw usage("pp_hold", "pp:pp_hold sim0 1 on");
            }
            boolean hold = word("hold", args[2], "on", "off");
            int q = index(args[1]);
            return args[0] + "/" + q + ": " + control.pageHold(args[0], q, hold).held() + " page(s) held outside"
                    + " the pool";
        });
    }

    @Descriptor("restart a queue onto new memory")
    public String queue_reset(@Descriptor("<device> <queue> [pool|napi|napi-stopped-first]") String... args) {
        return run("queue_reset", () -> {
            if (args.length < 2 || args.length > 3) {
                throw usage("queue_reset", "pp:queue_reset sim0 1 napi");
            }
            QueueDebug.ResetMode mode = args.length < 3 ? null : switch (args[2]) {
                case "pool" -> QueueDebug.ResetMode.POOL;
                case "napi" -> QueueDebug.ResetMode.NAPI;
                case "napi-stopped-first" -> QueueDebug.ResetMode.NAPI_STOPPED_FIRST;
                default -> throw Checks.invalid("mode", "'" + args[2] + "'", "pool, napi or napi-stopped-first");
            };
            QueueInfo info = control.queueReset(args[0], index(args[1]), mode);
            return info.queue() + ": " + info.state() + " on " + (info.provider().isEmpty() ? "no memory" : info.provider())
                    + (info.poolId() == 0 ? "" : ", pool " + info.poolId()) + (info.message().isEmpty() ? ""
                            : " (" + info.message() + ")");
        });
    }

    /** A queue index as text; its range is the control plane's to check. */
    private static int index(String text) {
        return Checks.parseInt("queue", text, "a queue index, see pp:queues");
    }

    @Descriptor("device-memory buffers and their dma-buf bindings, with chunk use")
    public String dmabufs(@Descriptor("JSON for scripts") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean jsonOption, @Descriptor("(nothing else)") String... args) {
        return run("dmabufs", () -> {
            DmaBufList d = control.dmabufs();
            if (jsonOption | json(args, 0)) {
                return control.json(d);
            }
            // dmabuf-binding: ids of pp:dmabuf_bind, not of pp:bind's bindings (pp:queues' BINDING-ID).
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
            return buffers.render() + "\n\n" + bound.render();
        });
    }

    @Descriptor("a device-memory buffer of <bytes>: a multiple of 4096, with K, M or G as suffix")
    public String dmabuf_create(@Descriptor("<bytes>") String... args) {
        return run("dmabuf_create", () -> {
            if (args.length != 1) {
                throw usage("dmabuf_create", "pp:dmabuf_create 64M");
            }
            DmaBufInfo b = control.dmabufCreate(bytes(args[0]));
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
            DevmemBindingInfo b = control.dmabufBind(buffer, args[1], QueueList.parse(args[2]));
            return "dmabuf-binding " + b.id() + ": buffer " + b.buffer() + " -> " + b.device() + " queues " + b.queues()
                    + " as " + b.provider() + " (" + b.chunks() + " chunks)";
        });
    }

    @Descriptor("unbind a buffer: its queues go back to the default provider")
    public String dmabuf_unbind(@Descriptor("<dmabuf-binding>") String... args) {
        return run("dmabuf_unbind", () -> {
            if (args.length != 1) {
                throw usage("dmabuf_unbind", "pp:dmabuf_unbind 1");
            }
            long id = id(args[0], "dmabuf-binding", "a dma-buf binding id, see pp:dmabufs");
            control.dmabufUnbind(id);
            return "removed dmabuf-binding " + id + "; its queues are back on the default provider";
        });
    }

    @Descriptor("destroy a buffer, unbinding it first")
    public String dmabuf_destroy(@Descriptor("<buffer>") String... args) {
        return run("dmabuf_destroy", () -> {
            if (args.length != 1) {
                throw usage("dmabuf_destroy", "pp:dmabuf_destroy 1");
            }
            int id = id(args[0], "buffer", "a buffer id, see pp:dmabufs");
            control.dmabufDestroy(id);
            return "destroyed buffer " + id + "; its memory is freed once its chunks are back";
        });
    }

    private static int id(String text, String what, String expected) {
        int id = Checks.parseInt(what, text, expected);
        if (id <= 0) {
            throw Checks.invalid(what, "'" + text + "'", expected);
        }
        return id;
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
            String[] rest = withoutJson(args);
            if (rest.length > 1) {
                throw usage("monitor", "pp:monitor 10");
            }
            long seconds = rest.length == 0 ? 0 : number("seconds", rest[0], 0, 86_400);
            java.util.concurrent.BlockingQueue<Change> queue = new java.util.concurrent.LinkedBlockingQueue<>();
            long seen = 0;
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(seconds);
            try (Change.Subscription s = control.subscribe(queue::add)) {
                while (seconds == 0 || System.nanoTime() - deadline < 0) {
                    Change c = queue.poll(seconds == 0 ? 1_000_000_000L : Math.max(1, deadline - System.nanoTime()),
                            java.util.concurrent.TimeUnit.NANOSECONDS);
                    if (c != null) {
                        System.out.println(json ? control.json(c) : changeLine(c));
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
            // Syntax here; the ranges are the control plane's to check.
            int size = args.length > 1 ? Math.toIntExact(integer("size", args[1], Integer.MAX_VALUE)) : 1472;
            long count = args.length > 2 ? integer("count", args[2], Long.MAX_VALUE) : 100_000;
            long rate = args.length > 3 ? integer("rate", args[3], Long.MAX_VALUE) : 0;
            DatagramSender.SendReport r = control.udpSend(args[0], size, count, rate);
            return String.format(java.util.Locale.ROOT, "sent %d datagrams of %d bytes to %s in %.3f s (%.0f/s)%s",
                    r.sent(), size, args[0], r.nanos() / 1e9, r.perSecond(), r.failed() == 0 ? ""
                            : "; " + r.failed() + " refused by the kernel");
        });
    }

    /** A number as text; "_" may group digits. Out of {@code min..max} or not a number: the one-line refusal. */
    private static long number(String what, String text, long min, long max) {
        String expected = max == Long.MAX_VALUE ? "an integer of at least " + min : "an integer in " + min + ".." + max;
        long n = Checks.parseLong(what, text, expected);
        if (n < min || n > max) {
            throw Checks.invalid(what, "'" + text + "'", expected);
        }
        return n;
    }

    /** An integer as text, of at most {@code max}, or the one-line refusal naming it; "_" may group digits. */
    private static long integer(String what, String text, long max) {
        long n = Checks.parseLong(what, text, "an integer");
        if (n > max) {
            throw Checks.invalid(what, "'" + text + "'", "an integer");
        }
        return n;
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
        String expected = "a positive number of bytes, e.g. 4096, 64K, 8M, 1G";
        try {
            long n = Checks.parseLong("size", t, expected);
            if (n > 0) {
                return Math.multiplyExact(n, unit);
            }
        } catch (IllegalArgumentException | ArithmeticException e) {
            // said below, of the text as written
        }
        throw Checks.invalid("size", "'" + s + "'", expected);
    }

    /** The arguments but --json, which Gogo leaves among them when it follows a positional one. */
    private static String[] withoutJson(String[] args) {
        return Arrays.stream(args).filter(a -> !a.equals("--json")).toArray(String[]::new);
    }

    /**
     * Whether --json is among the arguments; any other option, or any argument beyond
     * {@code positional}, is an error.
     */
    private static boolean json(String[] args, int positional) {
        boolean json = false;
        int others = 0;
        for (String a : args) {
            if (a.equals("--json")) {
                json = true;
            } else if (a.startsWith("--") || ++others > positional) {
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

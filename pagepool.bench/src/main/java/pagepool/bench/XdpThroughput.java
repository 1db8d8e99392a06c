package pagepool.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import pagepool.api.provider.MemoryProvider;
import pagepool.bench.UdpThroughput.Receiver;
import pagepool.driver.xdp.XdpDevice;
import pagepool.driver.xdp.XdpFrameSource;
import pagepool.driver.xdp.XdpSettings;
import pagepool.engine.StandaloneEngine;
import pagepool.provider.heap.HeapMemoryProvider;
import pagepool.provider.hugepage.HugePageProvider;

/**
 * {@code ./bench xdp [rounds] [count] [receiver]}: the same frames on a veth pair received by
 * {@code driver.xdp} (AF_XDP, the UMEM the queue's pool: heap or huge pages), by
 * {@code driver.uring}, by NIO {@code DatagramChannel} and by Netty's io_uring and epoll
 * transports. The source is the kernel itself ({@link XdpFrameSource}: {@code BPF_PROG_RUN} with
 * live frames, XDP_TX out of the sender end, one thread per queue pinned to the CPU whose number
 * the frames' RX queue takes), so every receiver gets the same traffic at a rate no socket
 * sender reaches. Receivers that are not driver.xdp get an {@code XDP_PASS} program on the
 * receiving end (a veth takes frames from its peer's XDP only with XDP on its side) and the
 * kernel's UDP stack behind it; no GRO (the frames do not coalesce: one flow per queue, but the
 * veth builds an skb per frame).
 *
 * <p>For each: frames received and verified per second, drops (sent - received: fill ring or
 * socket buffer full, or the veth ring), the receiving threads' CPU time per frame, and the whole
 * machine's (both cores, the source and the kernel's softirq work included) per frame.
 * Needs root; makes the pair {@code ppbr}/{@code ppbs} (10.211.0.2 on ppbr) and removes it.
 */
public final class XdpThroughput {

    static final String RX = "ppbr";
    static final String TX = "ppbs";
    static final String ADDRESS = "10.211.0.2";
    static final int DST_IP = 0x0ad30002;
    static final int SRC_IP = 0x0ad30001;

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        long count = args.length > 1 ? Long.parseLong(args[1]) : 4_000_000;
        String only = args.length > 2 ? args[2] : "";
        java.lang.management.ManagementFactory.getThreadMXBean().setThreadCpuTimeEnabled(true);
        Map<String, Supplier<Receiver>> receivers = new LinkedHashMap<>();
        receivers.put("driver.xdp 1 queue", () -> new Xdp(1, false));
        receivers.put("driver.xdp 2 queues", () -> new Xdp(2, false));
        receivers.put("driver.xdp 1 queue, huge pages", () -> new Xdp(1, true));
        receivers.put("driver.xdp 2 queues, huge pages", () -> new Xdp(2, true));
        receivers.put("driver.uring 1 queue", () -> new UdpThroughput.Pagepool(ADDRESS, 1, true, false, 0, false));
        receivers.put("driver.uring 2 queues", () -> new UdpThroughput.Pagepool(ADDRESS, 2, true, false, 0, false));
        receivers.put("NIO DatagramChannel 1 thread", () -> new UdpThroughput.Nio(ADDRESS, 1));
        receivers.put("NIO DatagramChannel 2 threads", () -> new UdpThroughput.Nio(ADDRESS, 2));
        receivers.put("Netty io_uring 1 thread", () -> new UdpThroughput.NettyReceiver(ADDRESS, 1, true, false));
        receivers.put("Netty io_uring 2 threads", () -> new UdpThroughput.NettyReceiver(ADDRESS, 2, true, false));
        receivers.put("Netty epoll recvmmsg 1 thread", () -> new UdpThroughput.NettyReceiver(ADDRESS, 1, false,
                false));
        receivers.put("Netty epoll recvmmsg 2 threads", () -> new UdpThroughput.NettyReceiver(ADDRESS, 2, false,
                false));
        try (Pair pair = new Pair()) {
            System.out.printf(Locale.ROOT, "# %d round(s) of %,d frames per receiver and size; %d cores; source:"
                    + " BPF_PROG_RUN live frames, XDP_TX out of %s, one thread per queue%n", rounds, count,
                    Runtime.getRuntime().availableProcessors(), TX);
            System.out.println("size\treceiver\tround\tsent\treceived\tdrops\tcorrupt\treceived/s\tsent/s"
                    + "\tcpu ns/frame (receiver)\tcpu ns/frame (machine)");
            Map<String, List<double[]>> results = new LinkedHashMap<>();
            for (int size : new int[] {64, 1472}) {
                for (int round = 1; round <= rounds; round++) {
                    for (Map.Entry<String, Supplier<Receiver>> e : receivers.entrySet()) {
                        if (!e.getKey().contains(only)) {
                            continue;
                        }
                        int queues = e.getKey().contains("2 ") ? 2 : 1;
                        double[] r = measure(e.getKey(), e.getValue(), size, count, queues);
                        System.out.printf(Locale.ROOT, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f%n", size,
                                e.getKey(), round, (long) r[0], (long) r[1], (long) (r[0] - r[1]), (long) r[2], r[3],
                                r[4], r[5], r[6]);
                        results.computeIfAbsent(size + "\t" + e.getKey(), k -> new ArrayList<>()).add(r);
                    }
                }
            }
            System.out.println();
            System.out.println("# median of the rounds: received/s, sent/s, drops, cpu ns/frame receiver, machine");
            for (Map.Entry<String, List<double[]>> e : results.entrySet()) {
                System.out.printf(Locale.ROOT, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f%n", e.getKey(), median(e.getValue(), 3),
                        median(e.getValue(), 4), median(e.getValue(), 7), median(e.getValue(), 5),
                        median(e.getValue(), 6));
            }
        }
    }

    private static double median(List<double[]> rows, int col) {
        double[] v = new double[rows.size()];
        for (int i = 0; i < v.length; i++) {
            double[] r = rows.get(i);
            v[i] = col == 7 ? r[0] - r[1] : r[col];
        }
        java.util.Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** {sent, received, corrupt, received/s, sent/s, receiver cpu ns/frame, machine cpu ns/frame}. */
    private static double[] measure(String name, Supplier<Receiver> make, int size, long count, int queues)
            throws Exception {
        try (Receiver r = make.get();
                AutoCloseable pass = name.startsWith("driver.xdp") ? () -> { } : XdpFrameSource.passProgram(RX);
                XdpFrameSource source = new XdpFrameSource(TX)) {
            byte[] mac = XdpFrameSource.mac(RX);
            int payload = size;
            // Warm-up: the JIT compiles the receive path before the measured burst.
            send(source, mac, r.port(), payload, 200_000, queues);
            UdpThroughput.settle(r::received, 200_000);
            long base = r.received();
            long cpu0 = UdpThroughput.cpu(r.threads());
            long busy0 = machineBusyNanos();
            long start = System.nanoTime();
            long sendNanos = send(source, mac, r.port(), payload, count, queues);
            long last = UdpThroughput.settle(r::received, base + count);
            long received = r.received() - base;
            long cpu = UdpThroughput.cpu(r.threads()) - cpu0;
            long busy = machineBusyNanos() - busy0;
            if (!r.note().isEmpty()) {
                System.out.println("# " + r.note());
            }
            return new double[] {count, received, r.corrupt(), received * 1e9 / (last - start),
                count * 1e9 / sendNanos, (double) cpu / Math.max(1, received), (double) busy / Math.max(1, received)};
        }
    }

    /** Sends {@code count} frames split over {@code queues} threads, thread i on CPU i; returns how long it took. */
    private static long send(XdpFrameSource source, byte[] mac, int port, int payload, long count, int queues)
            throws InterruptedException {
        Thread[] t = new Thread[queues];
        long start = System.nanoTime();
        for (int q = 0; q < queues; q++) {
            int cpu = q;
            t[q] = new Thread(() -> source.send(mac, SRC_IP, DST_IP, 40000 + cpu, port, payload, count / queues, cpu),
                    "xdp-source-" + q);
            t[q].start();
        }
        for (Thread x : t) {
            x.join();
        }
        return System.nanoTime() - start;
    }

    /** Busy CPU time of the whole machine from /proc/stat (user, nice, system, irq, softirq, steal), in ns. */
    static long machineBusyNanos() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat"), StandardCharsets.US_ASCII).get(0).trim().split("\\s+");
        long ticks = 0;
        for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
            ticks += Long.parseLong(f[i]);
        }
        return ticks * TimeUnit.SECONDS.toNanos(1) / 100; // USER_HZ
    }

    /** driver.xdp on the receiving end, on a standalone engine. */
    static final class Xdp implements Receiver {
        private final StandaloneEngine engine = new StandaloneEngine();
        private final XdpDevice device;
        private final String name = "xdpb" + System.nanoTime() % 100_000;

        Xdp(int queues, boolean hugePages) {
            MemoryProvider provider = hugePages ? new HugePageProvider(2 * queues * 16 + 4, 2L << 20, false, false)
                    : new HeapMemoryProvider(1L << 30);
            engine.addProvider(provider, true);
            device = new XdpDevice(XdpSettings.builder(name).ifname(RX).rxQueues(queues).ports(List.of(9000))
                    .build(), engine.factory());
            engine.addDevice(device);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (engine.bindings().queues().stream().anyMatch(q -> !q.state().name().equals("OK")
                    || !q.provider().equals(provider.name()))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("queues did not start on " + provider.name() + ": "
                            + engine.bindings().queues());
                }
                Thread.onSpinWait();
            }
        }

        @Override
        public int port() {
            return 9000;
        }

        private long sum(String counter) {
            long n = 0;
            for (int q = 0; q < device.rxQueueCount(); q++) {
                n += device.queueStats(q).get(counter);
            }
            return n;
        }

        @Override
        public long received() {
            return sum("verified");
        }

        @Override
        public long corrupt() {
            return sum("corrupt") + sum("unverifiable") + sum("malformed");
        }

        @Override
        public String threads() {
            return "napi-" + name + "-";
        }

        @Override
        public String note() {
            return String.format(Locale.ROOT, "%.1f frames/poll, drops %d (fill ring empty %d, RX ring full %d),"
                    + " missed %d, wakeups %d", sum("packets") / (double) Math.max(1, sum("polls")), sum("drops"),
                    sum("xdp-fill-ring-empty"), sum("xdp-rx-ring-full"), device.missed(), sum("wakeups"));
        }

        @Override
        public void close() {
            engine.removeDevice(device);
            device.close();
            engine.close();
        }
    }

    /** The veth pair, made for the run and removed after it. */
    static final class Pair implements AutoCloseable {
        Pair() throws IOException, InterruptedException {
            ip(false, "link", "del", RX);
            ip(true, "link", "add", RX, "numrxqueues", "2", "numtxqueues", "2", "type", "veth", "peer", "name", TX,
                    "numrxqueues", "2", "numtxqueues", "2");
            ip(true, "addr", "add", ADDRESS + "/24", "dev", RX);
            ip(true, "link", "set", RX, "up");
            ip(true, "link", "set", TX, "up");
        }

        static void ip(boolean check, String... args) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>(List.of("ip"));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0 && check) {
                throw new IOException(String.join(" ", cmd) + ": " + out.strip());
            }
        }

        @Override
        public void close() throws IOException, InterruptedException {
            ip(false, "link", "del", RX);
        }
    }
}

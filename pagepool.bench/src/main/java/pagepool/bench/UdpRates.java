package pagepool.bench;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import pagepool.api.Netmem;
import pagepool.api.datagram.Datagram;
import pagepool.kit.traffic.Traffic;
import pagepool.driver.uring.UdpSender;
import pagepool.driver.uring.UringDevice;
import pagepool.driver.uring.UringSettings;
import pagepool.engine.StandaloneEngine;
import pagepool.provider.heap.HeapMemoryProvider;

/**
 * {@code ./bench udp-rates [seconds] [size]}: CPU per datagram and latency at the rates a sender
 * sets, not only at the most a receiver takes. One queue of {@code driver.uring} without
 * moderation, with a fixed 50 µs and with adaptive moderation, its recvmmsg path, and a NIO
 * {@code DatagramChannel} thread, each receive the same paced loopback traffic (64-byte datagrams by default; the sender
 * sends a millisecond's worth at a time) at 10k, 100k and 1M datagrams/s and as fast as it can.
 * Each datagram carries its send time ({@link UdpSender#sendStamped}); the receiver reads it and
 * verifies every byte. Reported per receiver and rate: datagrams received per second, those lost
 * (sent, not received: the socket buffer overflowed), the receiving thread's CPU time per
 * datagram, how often it went to sleep per datagram, and the latency from send to delivery (p50,
 * p99).
 */
public final class UdpRates {

    private static final int RCVBUF = 8 << 20;
    /** Latency buckets of 1 µs up to 100 ms; later ones land in the last. */
    private static final int BUCKETS = 100_000;

    /** What a receiver counts on its one thread: verified datagrams and their latencies. */
    static final class Recorder {
        final long[] micros = new long[BUCKETS];
        final AtomicLong received = new AtomicLong();
        volatile long corrupt;

        void record(MemorySegment buf, long at, int length) {
            long sent = Traffic.sequenceOf(buf, at);
            if (Traffic.verify(buf, at, length) != Traffic.VERIFIED) {
                corrupt++;
                return;
            }
            long us = (System.nanoTime() - sent) / 1000;
            micros[(int) Math.max(0, Math.min(BUCKETS - 1, us))]++;
            received.lazySet(received.getPlain() + 1);
        }

        void reset() {
            java.util.Arrays.fill(micros, 0);
        }

        long percentile(double p) {
            long total = 0;
            for (long c : micros) {
                total += c;
            }
            long want = (long) Math.ceil(total * p);
            long seen = 0;
            for (int i = 0; i < BUCKETS; i++) {
                seen += micros[i];
                if (seen >= want && want > 0) {
                    return i;
                }
            }
            return -1;
        }
    }

    interface Receiver extends AutoCloseable {
        int port();

        Recorder recorder();

        String threads();

        /** Datagrams per wake and the wait moderation chose, where the receiver knows them. */
        default String note() {
            return "";
        }
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        int size = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        java.lang.management.ManagementFactory.getThreadMXBean().setThreadCpuTimeEnabled(true);
        Map<String, Supplier<Receiver>> receivers = new LinkedHashMap<>();
        receivers.put("pagepool io_uring, no moderation", () -> new Pagepool(true, false, 0));
        receivers.put("pagepool io_uring, 50 us moderation", () -> new Pagepool(true, false, 50));
        receivers.put("pagepool io_uring, adaptive", () -> new Pagepool(true, true, 0));
        receivers.put("pagepool recvmmsg", () -> new Pagepool(false, false, 0));
        receivers.put("NIO DatagramChannel", Nio::new);
        long[] rates = {10_000, 100_000, 1_000_000, 0};
        System.out.printf(Locale.ROOT, "# %d-byte datagrams, %.1f s per rate (rate 0: as fast as the sender goes);"
                + " %d cores%n", size, seconds, Runtime.getRuntime().availableProcessors());
        System.out.println("rate\treceiver\tsent\treceived/s\tlost\tcpu ns/datagram\tsleeps/datagram\tlatency p50 us"
                + "\tp99 us\tnote");
        for (long rate : rates) {
            for (Map.Entry<String, Supplier<Receiver>> e : receivers.entrySet()) {
                long count = rate == 0 ? (long) (1_000_000 * seconds) : (long) (rate * seconds);
                measure(rate, e.getKey(), e.getValue(), size, count);
            }
        }
    }

    private static void measure(long rate, String name, Supplier<Receiver> make, int size, long count)
            throws Exception {
        try (Receiver r = make.get()) {
            InetSocketAddress to = new InetSocketAddress("127.0.0.1", r.port());
            UdpSender sender = new UdpSender();
            Recorder rec = r.recorder();
            // Warm-up: the JIT compiles the receive path, the adaptive policy finds the rate.
            long warm = sender.sendStamped(to, size, Math.max(20_000, count / 10), rate).sent();
            UdpThroughput.settle(rec.received::get, warm);
            rec.reset();
            long base = rec.received.get();
            long cpu0 = UdpThroughput.cpu(r.threads());
            long sleeps0 = sleeps(r.threads());
            long start = System.nanoTime();
            long sent = sender.sendStamped(to, size, count, rate).sent();
            long last = UdpThroughput.settle(rec.received::get, base + sent);
            long received = rec.received.get() - base;
            long cpu = UdpThroughput.cpu(r.threads()) - cpu0;
            long sleeps = sleeps(r.threads()) - sleeps0;
            System.out.printf(Locale.ROOT, "%d\t%s\t%d\t%.0f\t%d\t%.0f\t%.2f\t%d\t%d\t%s%n", rate, name, sent,
                    received * 1e9 / (last - start), sent - received, (double) cpu / Math.max(1, received),
                    (double) sleeps / Math.max(1, received),
                    rec.percentile(0.5), rec.percentile(0.99), r.note());
        }
    }

    /**
     * Times the receiving threads went to sleep (their voluntary context switches, from
     * {@code /proc/self/task/<tid>/status}): how often a receiver paid for a wake-up.
     */
    static long sleeps(String prefix) throws java.io.IOException {
        // The kernel keeps 15 characters of a thread's name.
        String comm = prefix.length() > 15 ? prefix.substring(0, 15) : prefix;
        long n = 0;
        try (java.nio.file.DirectoryStream<java.nio.file.Path> tasks = java.nio.file.Files
                .newDirectoryStream(java.nio.file.Path.of("/proc/self/task"))) {
            for (java.nio.file.Path t : tasks) {
                try {
                    if (!java.nio.file.Files.readString(t.resolve("comm")).startsWith(comm)) {
                        continue;
                    }
                    for (String line : java.nio.file.Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            n += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return n;
    }

    /** One queue of driver.uring on the heap provider; its consumer records each datagram. */
    static final class Pagepool implements Receiver {
        private final StandaloneEngine engine = new StandaloneEngine();
        private final UringDevice device;
        private final String name = "udpr" + System.nanoTime() % 100_000;
        private final Recorder recorder = new Recorder();

        Pagepool(boolean ioUring, boolean adaptive, int coalesceMicros) {
            HeapMemoryProvider heap = new HeapMemoryProvider(1L << 30);
            engine.addProvider(heap, true);
            device = new UringDevice(UringSettings.builder(name).rxQueues(1).rcvbufBytes(RCVBUF).ioUring(ioUring)
                    .adaptiveRx(adaptive).coalesceMicros(coalesceMicros).build(), engine.factory());
            device.consumer(this::receive);
            engine.addDevice(device);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (engine.bindings().queues().stream().anyMatch(q -> !q.provider().equals(heap.name()))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the queue did not start: " + engine.bindings().queues());
                }
                Thread.onSpinWait();
            }
        }

        private void receive(Datagram d) {
            Netmem page = d.page();
            long at = ((long) page.index() << page.area().pageShift()) + d.offset();
            recorder.record(page.area().memory(), at, d.length());
        }

        @Override
        public int port() {
            return device.port();
        }

        @Override
        public Recorder recorder() {
            return recorder;
        }

        @Override
        public String threads() {
            return "napi-" + name + "-";
        }

        @Override
        public String note() {
            java.util.Map<String, Long> s = device.queueStats(0);
            return String.format(Locale.ROOT, "%.1f datagrams/wake, wait now %d us", s.get("packets")
                    / (double) Math.max(1, s.get("polls")), s.get("moderation-usecs"));
        }

        @Override
        public void close() {
            engine.removeDevice(device);
            device.close();
            engine.close();
        }
    }

    /** A blocking DatagramChannel on one thread with a direct buffer: what the JDK alone gives. */
    static final class Nio implements Receiver {
        private final DatagramChannel channel;
        private final Thread thread;
        private final Recorder recorder = new Recorder();

        Nio() {
            try {
                channel = DatagramChannel.open();
                channel.setOption(StandardSocketOptions.SO_RCVBUF, RCVBUF);
                channel.bind(new InetSocketAddress("127.0.0.1", 0));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            thread = new Thread(this::receive, "nio-rates-rx");
            thread.setDaemon(true);
            thread.start();
        }

        private void receive() {
            ByteBuffer buf = ByteBuffer.allocateDirect(65536);
            MemorySegment seg = MemorySegment.ofBuffer(buf);
            try {
                while (true) {
                    buf.clear();
                    channel.receive(buf);
                    recorder.record(seg, 0, buf.position());
                }
            } catch (java.io.IOException e) {
                // closed: the run is over
            }
        }

        @Override
        public int port() {
            return ((InetSocketAddress) channel.socket().getLocalSocketAddress()).getPort();
        }

        @Override
        public Recorder recorder() {
            return recorder;
        }

        @Override
        public String threads() {
            return "nio-rates-rx";
        }

        @Override
        public void close() throws Exception {
            channel.close();
            thread.join(5000);
        }
    }
}

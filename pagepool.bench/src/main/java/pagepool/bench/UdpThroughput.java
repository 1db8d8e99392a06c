package pagepool.bench;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import pagepool.api.provider.MemoryProvider;
import pagepool.kit.traffic.Traffic;
import pagepool.driver.uring.UdpSender;
import pagepool.driver.uring.UringDevice;
import pagepool.driver.uring.UringSettings;
import pagepool.engine.StandaloneEngine;
import pagepool.provider.heap.HeapMemoryProvider;
import pagepool.provider.hugepage.HugePageProvider;

/**
 * {@code ./bench udp [runs] [count] [receiver] [gso]}: the same loopback UDP traffic (one sender thread,
 * sendmmsg, as fast as the kernel takes it; 64- and 1,472-byte datagrams) received by pagepool's
 * {@code driver.uring} and by what a Java user would pick instead: NIO {@code DatagramChannel}
 * with a direct buffer, Netty 4.2's io_uring transport and its epoll transport with recvmmsg.
 * Every receiver checks every byte of every datagram the same way ({@link Traffic#verify}).
 *
 * <p>For each: datagrams received and verified per second (from the first send until the last
 * datagram arrived), the kernel's drops (sent - received: the receive buffers overflowed), and
 * the receiving threads' CPU time per datagram. Receivers run in turn, {@code runs} rounds; with
 * {@code receiver}, only those whose name contains it ("" for all). On this loopback one sender
 * thread is slower than any receiver, so every receiver receives at the sender's rate; with
 * {@code gso} the sender hands the kernel up to 64 datagrams per message ({@code UDP_SEGMENT})
 * and the receivers become the bottleneck: then datagrams/s tell them apart.
 */
public final class UdpThroughput {

    private static final int RCVBUF = 8 << 20;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** A receiver under test: started on a port the kernel picks, counting what it verified. */
    interface Receiver extends AutoCloseable {
        int port();

        long received();

        long corrupt();

        /** The prefix of the names of the threads that receive, for their CPU time. */
        String threads();

        /** What else the receiver says of the run. */
        default String note() {
            return "";
        }

        @Override
        void close() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        long count = args.length > 1 ? Long.parseLong(args[1]) : 2_000_000;
        String only = args.length > 2 ? args[2] : "";
        boolean segmented = args.length > 3 && args[3].equals("gso");
        THREADS.setThreadCpuTimeEnabled(true);
        Map<String, Supplier<Receiver>> receivers = new LinkedHashMap<>();
        receivers.put("pagepool io_uring 1 queue", () -> new Pagepool(1, true, false, 0));
        receivers.put("pagepool io_uring 2 queues", () -> new Pagepool(2, true, false, 0));
        receivers.put("pagepool io_uring 1 queue, 50 us moderation", () -> new Pagepool(1, true, false, 50));
        receivers.put("pagepool recvmmsg 1 queue", () -> new Pagepool(1, false, false, 0));
        receivers.put("pagepool io_uring 1 queue, GRO", () -> new Pagepool(1, true, false, 0, true));
        receivers.put("pagepool io_uring 2 queues, GRO", () -> new Pagepool(2, true, false, 0, true));
        receivers.put("pagepool io_uring 1 queue, huge pages", () -> new Pagepool(1, true, true, 0));
        receivers.put("pagepool io_uring 2 queues, huge pages", () -> new Pagepool(2, true, true, 0));
        receivers.put("NIO DatagramChannel 1 thread", () -> new Nio(1));
        receivers.put("NIO DatagramChannel 2 threads", () -> new Nio(2));
        receivers.put("Netty io_uring 1 thread", () -> new NettyReceiver(1, true));
        receivers.put("Netty io_uring 2 threads", () -> new NettyReceiver(2, true));
        receivers.put("Netty epoll recvmmsg 1 thread", () -> new NettyReceiver(1, false));
        receivers.put("Netty epoll recvmmsg 2 threads", () -> new NettyReceiver(2, false));
        receivers.put("Netty epoll recvmmsg 1 thread, GRO", () -> new NettyReceiver(1, false, true));
        receivers.put("Netty epoll recvmmsg 2 threads, GRO", () -> new NettyReceiver(2, false, true));
        System.out.printf(Locale.ROOT, "# %d round(s) of %,d datagrams per receiver and size; %d cores; Netty io_uring"
                + " available: %s, epoll: %s; sender: sendmmsg%s%n", runs, count,
                Runtime.getRuntime().availableProcessors(), IoUring.isAvailable(), Epoll.isAvailable(),
                segmented ? " with UDP_SEGMENT (the kernel cuts each message into up to 64 datagrams)" : "");
        System.out.println("size\treceiver\tround\tsent\treceived\tdrops\tcorrupt\treceived/s\tcpu ns/datagram");
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        for (int size : new int[] {64, 1472}) {
            for (int round = 1; round <= runs; round++) {
                for (Map.Entry<String, Supplier<Receiver>> e : receivers.entrySet()) {
                    if (!e.getKey().contains(only)) {
                        continue;
                    }
                    int segments = segmented ? Math.min(UdpSender.MAX_SEGMENTS, Traffic.MAX_SIZE / size) : 1;
                    double[] r = measure(e.getValue(), size, count, segments);
                    System.out.printf(Locale.ROOT, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%.0f\t%.0f%n", size, e.getKey(), round,
                            (long) r[0], (long) r[1], (long) (r[0] - r[1]), (long) r[2], r[3], r[4]);
                    results.computeIfAbsent(size + "\t" + e.getKey(), k -> new ArrayList<>()).add(r);
                }
            }
        }
        System.out.println();
        System.out.println("# median of the rounds: received/s, drops, cpu ns/datagram");
        for (Map.Entry<String, List<double[]>> e : results.entrySet()) {
            System.out.printf(Locale.ROOT, "%s\t%.0f\t%.0f\t%.0f%n", e.getKey(), median(e.getValue(), 3),
                    median(e.getValue(), 5), median(e.getValue(), 4));
        }
    }

    private static double median(List<double[]> rows, int col) {
        double[] v = new double[rows.size()];
        for (int i = 0; i < v.length; i++) {
            double[] r = rows.get(i);
            v[i] = col == 5 ? r[0] - r[1] : r[col];
        }
        java.util.Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** One receiver, one size: {sent, received, corrupt, received/s, cpu ns per datagram}. */
    private static double[] measure(Supplier<Receiver> make, int size, long count, int segments) throws Exception {
        try (Receiver r = make.get()) {
            InetSocketAddress to = new InetSocketAddress("127.0.0.1", r.port());
            UdpSender sender = new UdpSender();
            // Warm-up: the JIT compiles the receive path before the measured burst.
            long warm = sender.send(to, size, 200_000, 0).sent();
            settle(r, warm);
            long base = r.received();
            long cpu0 = cpu(r.threads());
            long start = System.nanoTime();
            AtomicLong sent = new AtomicLong(-1);
            Thread t = new Thread(() -> sent.set(sender.send(to, size, count, 0, segments).sent()), "udp-sender");
            t.start();
            t.join();
            long last = settle(r, warm + sent.get());
            long received = r.received() - base;
            long cpu = cpu(r.threads()) - cpu0;
            if (!r.note().isEmpty()) {
                System.out.println("# " + r.note());
            }
            return new double[] {sent.get(), received, r.corrupt(), received * 1e9 / (last - start),
                (double) cpu / Math.max(1, received)};
        }
    }

    /** Waits until the receiver has everything or nothing more arrives for 200 ms; returns when the last arrived. */
    private static long settle(Receiver r, long expected) throws InterruptedException {
        return settle(r::received, expected);
    }

    /** As {@link #settle(Receiver, long)}, for any count of what arrived. */
    static long settle(java.util.function.LongSupplier received, long expected) throws InterruptedException {
        long seen = received.getAsLong();
        long lastChange = System.nanoTime();
        while (seen < expected && System.nanoTime() - lastChange < TimeUnit.MILLISECONDS.toNanos(200)) {
            Thread.sleep(0, 200_000);
            long now = received.getAsLong();
            if (now != seen) {
                seen = now;
                lastChange = System.nanoTime();
            }
        }
        return lastChange;
    }

    /** The CPU time of the threads whose names start with {@code prefix}. */
    static long cpu(String prefix) {
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix)) {
                sum += Math.max(0, THREADS.getThreadCpuTime(t.threadId()));
            }
        }
        return sum;
    }

    /** One receiving thread's counts: it alone writes them, with a release store (no atomic add). */
    static final class Counts {
        private final AtomicLong verified = new AtomicLong();
        private final AtomicLong failed = new AtomicLong();

        void count(int verdict) {
            AtomicLong c = verdict == Traffic.VERIFIED ? verified : failed;
            c.lazySet(c.getPlain() + 1);
        }
    }

    /** A receiver whose threads each count in {@link Counts} of their own; the totals sum them. */
    abstract static class CountingReceiver implements Receiver {
        private final List<Counts> counts = new java.util.concurrent.CopyOnWriteArrayList<>();

        /** Counts for one more receiving thread. */
        Counts newCounts() {
            Counts c = new Counts();
            counts.add(c);
            return c;
        }

        @Override
        public long received() {
            return counts.stream().mapToLong(c -> c.verified.get()).sum();
        }

        @Override
        public long corrupt() {
            return counts.stream().mapToLong(c -> c.failed.get()).sum();
        }
    }

    // ---- pagepool --------------------------------------------------------------------------------------

    static final class Pagepool implements Receiver {
        private final StandaloneEngine engine = new StandaloneEngine();
        private final UringDevice device;
        private final String name;

        Pagepool(int queues, boolean ioUring, boolean hugePages, int coalesceMicros) {
            this(queues, ioUring, hugePages, coalesceMicros, false);
        }

        /** With GRO: 64 KiB buffers, 64 to a ring (4 MiB), as many datagrams in each as the kernel coalesced. */
        Pagepool(int queues, boolean ioUring, boolean hugePages, int coalesceMicros, boolean gro) {
            this("127.0.0.1", queues, ioUring, hugePages, coalesceMicros, gro);
        }

        /** Bound to {@code address}, e.g. a veth's ({@code ./bench xdp}). */
        Pagepool(String address, int queues, boolean ioUring, boolean hugePages, int coalesceMicros, boolean gro) {
            MemoryProvider provider = hugePages ? new HugePageProvider(32, 2L << 20, false, false)
                    : new HeapMemoryProvider(1L << 30);
            engine.addProvider(provider, true);
            name = "udpb" + System.nanoTime() % 100_000;
            device = new UringDevice(UringSettings.builder(name).bind(address, 0).rxQueues(queues).ringSize(gro ? 64
                    : Integer.getInteger("pagepool.udp.ring", UringSettings.DEFAULT_RING)).rcvbufBytes(RCVBUF)
                    .gro(gro).pageOrder(gro ? UringSettings.GRO_PAGE_ORDER : 0)
                    .ioUring(ioUring).coalesceMicros(coalesceMicros).build(), engine.factory());
            engine.addDevice(device);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (engine.bindings().queues().stream().anyMatch(q -> !q.provider().equals(provider.name()))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("queues did not start on " + provider.name() + ": "
                            + engine.bindings().queues());
                }
                Thread.onSpinWait();
            }
        }

        @Override
        public int port() {
            return device.port();
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
            return sum("corrupt") + sum("unverifiable");
        }

        @Override
        public String threads() {
            return "napi-" + name + "-";
        }

        /** Datagrams per wake-up of the queues' threads: the batch moderation makes. */
        @Override
        public String note() {
            return String.format(Locale.ROOT, "%.1f datagrams/poll, %d ring-empty, %d alloc-fail", sum("packets")
                    / (double) Math.max(1, sum("polls")), sum("no-buffer"), sum("alloc-fail"));
        }

        @Override
        public void close() {
            engine.removeDevice(device);
            device.close();
            engine.close();
        }
    }

    // ---- NIO ----------------------------------------------------------------------------------------------

    /** What a Java user writes with the JDK alone: a blocking DatagramChannel per thread, a direct buffer. */
    static final class Nio extends CountingReceiver {
        private final List<DatagramChannel> channels = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();
        private final int port;

        Nio(int n) {
            this("127.0.0.1", n);
        }

        Nio(String address, int n) {
            try {
                int p = 0;
                for (int i = 0; i < n; i++) {
                    DatagramChannel ch = DatagramChannel.open();
                    ch.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                    ch.setOption(StandardSocketOptions.SO_RCVBUF, RCVBUF);
                    ch.bind(new InetSocketAddress(address, p));
                    p = ((InetSocketAddress) ch.getLocalAddress()).getPort();
                    channels.add(ch);
                }
                port = p;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            for (int i = 0; i < n; i++) {
                DatagramChannel ch = channels.get(i);
                Counts c = newCounts();
                Thread t = new Thread(() -> receive(ch, c), "nio-rx-" + i);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
        }

        private static void receive(DatagramChannel ch, Counts c) {
            ByteBuffer buf = ByteBuffer.allocateDirect(65536);
            MemorySegment seg = MemorySegment.ofBuffer(buf);
            try {
                while (true) {
                    buf.clear();
                    ch.receive(buf);
                    c.count(Traffic.verify(seg, 0, buf.position()));
                }
            } catch (java.io.IOException e) {
                // closed: the run is over
            }
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public String threads() {
            return "nio-rx-";
        }

        @Override
        public void close() throws Exception {
            for (DatagramChannel ch : channels) {
                ch.close();
            }
            for (Thread t : threads) {
                t.join(5000);
            }
        }
    }

    // ---- Netty ------------------------------------------------------------------------------------------

    /**
     * Netty 4.2 as its documentation sets it up for UDP at rate: one channel per event loop with
     * SO_REUSEPORT, datagrams up to 1,472 bytes read in batches (epoll: recvmmsg), a handler that
     * verifies each datagram and releases its buffer.
     */
    static final class NettyReceiver extends CountingReceiver {
        private final MultiThreadIoEventLoopGroup group;
        private final List<Channel> channels = new ArrayList<>();
        private final int port;
        private final String prefix;

        NettyReceiver(int n, boolean ioUring) {
            this(n, ioUring, false);
        }

        /** With {@code gro}: epoll's UDP_GRO, 64 KiB reads that Netty cuts into datagrams. */
        NettyReceiver(int n, boolean ioUring, boolean gro) {
            this("127.0.0.1", n, ioUring, gro);
        }

        NettyReceiver(String address, int n, boolean ioUring, boolean gro) {
            prefix = (ioUring ? "netty-uring-" : "netty-epoll-") + System.nanoTime() % 100_000 + "-";
            IoHandlerFactory io = ioUring ? IoUringIoHandler.newFactory() : EpollIoHandler.newFactory();
            group = new MultiThreadIoEventLoopGroup(n, new DefaultThreadFactory(prefix, true), io);
            Bootstrap b = new Bootstrap().group(group)
                    .channel(ioUring ? IoUringDatagramChannel.class : EpollDatagramChannel.class)
                    .option(UnixChannelOption.SO_REUSEPORT, true)
                    .option(ChannelOption.SO_RCVBUF, RCVBUF)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(1472 * 64))
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new Verify());
                        }
                    });
            if (ioUring) {
                b.option(IoUringChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 1472);
            } else if (gro) {
                b.option(EpollChannelOption.UDP_GRO, true)
                        .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65536));
            } else {
                b.option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 1472);
            }
            int p = 0;
            for (int i = 0; i < n; i++) {
                Channel ch = b.bind(address, p).syncUninterruptibly().channel();
                p = ((InetSocketAddress) ch.localAddress()).getPort();
                channels.add(ch);
            }
            port = p;
        }

        private final class Verify extends SimpleChannelInboundHandler<DatagramPacket> {
            private final Counts c = newCounts();

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                ByteBuf c = packet.content();
                MemorySegment seg = c.hasMemoryAddress()
                        ? MemorySegment.ofAddress(c.memoryAddress() + c.readerIndex()).reinterpret(c.readableBytes())
                        : MemorySegment.ofBuffer(c.nioBuffer());
                this.c.count(Traffic.verify(seg, 0, c.readableBytes()));
            }
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public String threads() {
            return prefix;
        }

        @Override
        public void close() {
            for (Channel ch : channels) {
                ch.close().syncUninterruptibly();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}

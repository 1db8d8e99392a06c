package pagepool.bench;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import pagepool.api.provider.MemoryProvider;
import pagepool.driver.uring.UdpSender;
import pagepool.driver.uring.UringDevice;
import pagepool.driver.uring.UringSettings;
import pagepool.engine.RestartRecord;
import pagepool.engine.StandaloneEngine;
import pagepool.provider.heap.HeapMemoryProvider;

/**
 * {@link SwapLatency} for {@code driver.uring}: swaps its one queue between two heap providers
 * while 64-byte datagrams arrive over loopback at 20k/s, and reports the swap's latency and
 * whether every datagram sent was delivered. Unlike {@code driver.sim}, a swap here is handed to
 * the queue's NAPI thread, which alone may register the new buffer ring (io_uring's single
 * issuer), and that thread sleeps in the kernel's receive: while it swaps, datagrams wait in the
 * socket's buffer ({@code --rcvbuf BYTES}; the kernel's default when absent, as the runtime's).
 * Run with {@code ./bench swap-uring [swaps] [--warmup N] [--rcvbuf BYTES]} (io_uring needed: not
 * under Docker's default seccomp profile).
 */
public final class UringSwapLatency {

    private static final long RATE = 20_000;

    public static void main(String[] args) throws Exception {
        int swaps = 2_000;
        int warmup = 5_000;
        int rcvbuf = 0;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--warmup") && i + 1 < args.length) {
                warmup = Integer.parseInt(args[++i]);
            } else if (args[i].equals("--rcvbuf") && i + 1 < args.length) {
                rcvbuf = Integer.parseInt(args[++i]);
            } else {
                swaps = Integer.parseInt(args[i]);
            }
        }
        AtomicLong delivered = new AtomicLong();
        try (StandaloneEngine engine = new StandaloneEngine()) {
            engine.addProvider(new HeapMemoryProvider(1L << 30), true);
            engine.addProvider(new HeapMemoryProvider(1L << 30), Map.of(MemoryProvider.NAME, "heap2"));
            UringDevice device = new UringDevice(UringSettings.builder("swapu0").rxQueues(1)
                    .rcvbufBytes(rcvbuf).build(), engine.factory());
            device.consumer(d -> delivered.incrementAndGet());
            engine.addDevice(device);
            await("the queue to start", () -> engine.bindings().queues().stream().allMatch(q -> q.provider().equals("heap")));
            RestartRecord[] last = new RestartRecord[1];
            engine.onRestart(r -> last[0] = r);

            InetSocketAddress to = new InetSocketAddress("127.0.0.1", device.port());
            AtomicLong sent = new AtomicLong();
            Thread sender = new Thread(() -> {
                UdpSender udp = new UdpSender();
                while (!Thread.currentThread().isInterrupted()) {
                    sent.addAndGet(udp.send(to, 64, RATE / 100, RATE).sent()); // 10 ms at a time
                }
            }, "swap-uring-sender");
            sender.start();
            for (int i = 0; i < warmup; i++) {
                SwapLatency.swap(engine.bindings(), "swapu0", i);
            }
            long[] swap = new long[swaps];
            long[] alloc = new long[swaps];
            long[] switched = new long[swaps];
            long[] total = new long[swaps];
            long sentBefore = sent.get();
            long t0 = System.nanoTime();
            for (int i = 0; i < swaps; i++) {
                SwapLatency.swap(engine.bindings(), "swapu0", warmup + i);
                swap[i] = last[0].swapNanos();
                alloc[i] = last[0].allocNanos();
                switched[i] = last[0].switchNanos();
                total[i] = last[0].totalNanos();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long during = sent.get() - sentBefore;
            sender.interrupt();
            sender.join();
            await("what was sent to arrive", () -> delivered.get() >= sent.get());
            System.out.printf("%d swaps of swapu0/0 (driver.uring, io_uring) in %.2f s under %d datagrams/s of 64 bytes,"
                    + " back to back; socket buffer %s%n", swaps, seconds, RATE, rcvbuf == 0 ? "the kernel's default"
                            : rcvbuf + " bytes");
            SwapLatency.report("swap (alloc new, until running on it)", swap);
            SwapLatency.report("  of which memAlloc (under its budget)", alloc);
            SwapLatency.report("  of which the switch (swap, on NAPI)", switched);
            SwapLatency.report("restart incl. freeing the old memory", total);
            Map<String, Long> stats = device.queueStats(0);
            System.out.printf("datagrams: %d sent (%d during the measured swaps), %d delivered, %d lost; queue drops %d%n",
                    sent.get(), during, delivered.get(), sent.get() - delivered.get(), stats.getOrDefault("drops", -1L));
            stats.forEach((k, v) -> {
                if (k.contains("drop") || k.contains("empty") || k.contains("overflow") || k.contains("fail")) {
                    System.out.printf("  %s %d%n", k, v);
                }
            });
            engine.removeDevice(device);
            device.close();
        }
    }

    private static void await(String what, java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                System.out.println("gave up waiting for " + what);
                return;
            }
            Thread.sleep(1);
        }
    }
}

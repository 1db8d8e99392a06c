package pagepool.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.PoolBindings;
import pagepool.driver.sim.SimSettings;
import pagepool.engine.RestartRecord;

/**
 * Swaps queue 0 of a 4-queue simulated NIC between two providers {@code swaps} times under
 * traffic (10k packets/s per queue of 1500 bytes, as the runtime's sim0), and reports the restart
 * latency and the drops on the swapped queue and the others. With {@code --csv FILE} it also
 * writes each swap's times, for {@link SwapPlot}; with {@code --gap MICROS} the swaps come that far
 * apart instead of back to back (whose old memory is freed while the next swap runs). The first
 * {@code --warmup N} swaps (20,000) are not measured: with only a hundred, the JIT's compiler
 * threads still took ~40% of the two cores during the measured swaps, and their tail with it.
 * Run with {@code ./bench swap [swaps] [--gap MICROS] [--warmup N] [--csv FILE]}.
 */
public final class SwapLatency {

    public static void main(String[] args) throws Exception {
        int swaps = 1000;
        Path csv = null;
        long gapMicros = 0;
        int warmup = 20_000;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--csv") && i + 1 < args.length) {
                csv = Path.of(args[++i]);
            } else if (args[i].equals("--gap") && i + 1 < args.length) {
                gapMicros = Long.parseLong(args[++i]);
            } else if (args[i].equals("--warmup") && i + 1 < args.length) {
                warmup = Integer.parseInt(args[++i]);
            } else {
                swaps = Integer.parseInt(args[i]);
            }
        }
        SimSettings settings = SimSettings.builder("sim0").build();
        try (BenchRig rig = new BenchRig(settings)) {
            rig.addSecondHeap();
            RestartRecord[] last = new RestartRecord[1];
            rig.engine.onRestart(r -> last[0] = r);
            // Warm up: traffic, and the restart path until the JIT is done with it.
            Thread.sleep(1000);
            for (int i = 0; i < warmup; i++) {
                swap(rig, i);
            }
            long[][] before = counters(rig);
            long[] swap = new long[swaps];
            long[] alloc = new long[swaps];
            long[] switched = new long[swaps];
            long[] stopped = new long[swaps];
            long[] total = new long[swaps];
            long[] call = new long[swaps];
            long t0 = System.nanoTime();
            for (int i = 0; i < swaps; i++) {
                if (gapMicros > 0) {
                    // Apart: the previous swap's old memory is freed (off the engine) before the next begins.
                    java.util.concurrent.locks.LockSupport.parkNanos(gapMicros * 1000);
                }
                long c = System.nanoTime();
                swap(rig, i);
                call[i] = System.nanoTime() - c;
                swap[i] = last[0].swapNanos();
                alloc[i] = last[0].allocNanos();
                switched[i] = last[0].switchNanos();
                stopped[i] = last[0].stoppedNanos();
                total[i] = last[0].totalNanos();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            // What the last swaps let through reaches the counters at the next polls.
            Thread.sleep(100);
            long[][] after = counters(rig);
            System.out.printf("%d swaps of sim0/0 in %.2f s under 4 x 10k pps of 1500 bytes%s%n", swaps, seconds,
                    gapMicros > 0 ? ", " + gapMicros + " us apart" : ", back to back");
            report("swap (alloc new, until running on it)", swap);
            report("  of which memAlloc (under its budget)", alloc);
            report("  of which the switch (swap)", switched);
            report("queue stopped", stopped);
            report("restart incl. freeing the old memory", total);
            report("bind/unbind call (incl. the engine thread)", call);
            for (int q = 0; q < 4; q++) {
                System.out.printf("queue %d%s: %d packets, NIC drops %d (stopped + no buffer), socket backlog drops %d%n",
                        q, q == 0 ? " (swapped)" : "", after[q][0] - before[q][0], after[q][1] - before[q][1],
                        after[q][2] - before[q][2]);
            }
            if (csv != null) {
                write(csv, swap, stopped, total, call);
                System.out.println("each swap's times: " + csv);
            }
        }
    }

    /** Per queue: packets, NIC drops (stopped + no buffer), socket backlog drops. */
    private static long[][] counters(BenchRig rig) {
        long[][] c = new long[4][];
        for (int q = 0; q < 4; q++) {
            c[q] = new long[] {rig.stat(q, "packets"), rig.stat(q, "drops-stopped") + rig.stat(q, "drops-no-buffer"),
                rig.stat(q, "drops-backlog")};
        }
        return c;
    }

    private static void swap(BenchRig rig, int i) {
        swap(rig.bindings, "sim0", i);
    }

    /** Swap {@code i}: queue 0 of {@code device} onto heap2 (even), back to the default heap (odd). */
    static void swap(PoolBindings bindings, String device, int i) {
        if (i % 2 == 0) {
            BindingInfo b = bindings.bind(device, List.of(0), "heap2");
            if (b.state() != BindingInfo.State.APPLIED) {
                throw new IllegalStateException("swap " + i + ": " + b);
            }
        } else {
            bindings.unbind(device, List.of(0));
        }
    }

    static void report(String what, long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        System.out.printf("%-42s p50 %7.1f us  p99 %7.1f us  max %7.1f us%n", what, s[s.length / 2] / 1e3,
                s[(int) Math.ceil(s.length * 0.99) - 1] / 1e3, s[s.length - 1] / 1e3);
    }

    private static void write(Path csv, long[] swap, long[] stopped, long[] total, long[] call) throws IOException {
        if (csv.getParent() != null) {
            Files.createDirectories(csv.getParent());
        }
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(csv))) {
            w.println("swap_us,stopped_us,total_us,call_us");
            for (int i = 0; i < swap.length; i++) {
                w.printf("%.1f,%.1f,%.1f,%.1f%n", swap[i] / 1e3, stopped[i] / 1e3, total[i] / 1e3, call[i] / 1e3);
            }
        }
    }
}

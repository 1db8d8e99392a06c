package pagepool.bench;

import java.util.Arrays;
import java.util.List;

import pagepool.api.binding.BindingInfo;
import pagepool.driver.sim.SimSettings;
import pagepool.engine.RestartRecord;

/**
 * Swaps queue 0 of a 4-queue simulated NIC between two providers {@code swaps} times under
 * traffic (10k packets/s per queue of 1500 bytes, as the runtime's sim0), and reports the restart
 * latency (alloc new memory, stop, start, free old) and the drops on the swapped queue and the
 * others. Run with {@code ./bench swap [swaps]}.
 */
public final class SwapLatency {

    public static void main(String[] args) throws Exception {
        int swaps = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        SimSettings settings = SimSettings.builder("sim0").build();
        try (BenchRig rig = new BenchRig(settings)) {
            rig.addSecondHeap();
            RestartRecord[] last = new RestartRecord[1];
            rig.engine.onRestart(r -> last[0] = r);
            // Warm up: traffic and the restart path.
            Thread.sleep(1000);
            for (int i = 0; i < 100; i++) {
                swap(rig, i);
            }
            long[] nicBefore = new long[4];
            long[] backlogBefore = new long[4];
            long[] packetsBefore = new long[4];
            for (int q = 0; q < 4; q++) {
                nicBefore[q] = rig.stat(q, "drops-stopped") + rig.stat(q, "drops-no-buffer");
                backlogBefore[q] = rig.stat(q, "drops-backlog");
                packetsBefore[q] = rig.stat(q, "packets");
            }
            long[] restart = new long[swaps];
            long[] swap = new long[swaps];
            long[] pause = new long[swaps];
            long[] call = new long[swaps];
            long t0 = System.nanoTime();
            for (int i = 0; i < swaps; i++) {
                long c = System.nanoTime();
                swap(rig, i);
                call[i] = System.nanoTime() - c;
                restart[i] = last[0].totalNanos();
                pause[i] = last[0].stoppedNanos();
                swap[i] = last[0].swapNanos();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%d swaps of sim0/0 in %.2f s under 4 x 10k pps of 1500 bytes%n", swaps, seconds);
            report("swap (alloc new, stop, started on new)", swap);
            report("queue stopped (stop to started)", pause);
            report("restart incl. freeing the old memory", restart);
            report("bind/unbind call (incl. reconciler)", call);
            for (int q = 0; q < 4; q++) {
                long nic = rig.stat(q, "drops-stopped") + rig.stat(q, "drops-no-buffer") - nicBefore[q];
                long backlog = rig.stat(q, "drops-backlog") - backlogBefore[q];
                long packets = rig.stat(q, "packets") - packetsBefore[q];
                System.out.printf("queue %d%s: %d packets, NIC drops %d (stopped + no buffer), socket backlog drops %d%n",
                        q, q == 0 ? " (swapped)" : "", packets, nic, backlog);
            }
        }
    }

    private static void swap(BenchRig rig, int i) {
        if (i % 2 == 0) {
            BindingInfo b = rig.bindings.bind("sim0", List.of(0), "heap2");
            if (b.state() != BindingInfo.State.APPLIED) {
                throw new IllegalStateException("swap " + i + ": " + b);
            }
        } else {
            rig.bindings.unbind("sim0", List.of(0));
        }
    }

    private static void report(String what, long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        System.out.printf("%-38s p50 %7.1f us  p99 %7.1f us  max %7.1f us%n", what, s[s.length / 2] / 1e3,
                s[(int) (s.length * 0.99) - 1] / 1e3, s[s.length - 1] / 1e3);
    }
}

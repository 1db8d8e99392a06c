package pagepool.bench;

import java.util.Arrays;

import pagepool.api.queue.QueueMemory;
import pagepool.api.queue.QueueMgmtOps;
import pagepool.driver.sim.SimSettings;

/**
 * {@code ./bench swap-ops [n]}: the driver's part of a swap alone, without the engine: queue 1 of
 * a 4-queue simulated NIC under the runtime's traffic, its {@link QueueMgmtOps} called directly
 * ({@code memAlloc}, {@code swap}, {@code memFree}) {@code n} times (3,000). What {@code ./bench swap}
 * measures on top of this is the engine's: its thread, the allocation's time budget, the checks.
 */
public final class SwapOps {

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        try (BenchRig rig = new BenchRig(SimSettings.builder("sim0").build())) {
            Thread.sleep(1000);
            QueueMgmtOps ops = rig.device.queueOps();
            long[] alloc = new long[n];
            long[] swap = new long[n];
            long[] free = new long[n];
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                QueueMemory m = ops.memAlloc(1);
                long t1 = System.nanoTime();
                QueueMemory old = ops.swap(1, m);
                long t2 = System.nanoTime();
                ops.memFree(old);
                long t3 = System.nanoTime();
                alloc[i] = t1 - t0;
                swap[i] = t2 - t1;
                free[i] = t3 - t2;
            }
            int warm = n / 6; // the first calls compile the paths
            report("memAlloc (pools, ring filled)", alloc, warm);
            report("swap (holding the NAPI context)", swap, warm);
            report("memFree (ring back, pools closed)", free, warm);
        }
    }

    private static void report(String what, long[] v, int warm) {
        long[] w = Arrays.copyOfRange(v, warm, v.length);
        Arrays.sort(w);
        System.out.printf("%-34s p50 %7.1f us  p99 %7.1f us  max %8.1f us%n", what, w[w.length / 2] / 1e3,
                w[(int) (w.length * 0.99)] / 1e3, w[w.length - 1] / 1e3);
    }
}

package pagepool.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import pagepool.driver.sim.SimSettings;

/**
 * One queue's RX throughput with 1500-byte packets on the heap provider, unbounded offered
 * load, against a plain {@code MemorySegment.copy} of the same bytes into page-sized buffers in
 * the same run. Two consumers: all packets verified and recycled in NAPI (one core), and all
 * handed to a socket thread (verification on the other core). Run with {@code ./bench rx [seconds]}.
 */
public final class RxThroughput {

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        double copy = copyBytesPerSecond(seconds);
        System.out.printf("plain MemorySegment.copy of 1500 bytes into 1024 rotating 4 KiB pages: %.0f MB/s%n", copy / 1e6);
        for (double socketShare : new double[] {0.0, 1.0}) {
            SimSettings s = SimSettings.builder("sim0").rxQueues(1).ratePps(0).socketFraction(socketShare).holdMicros(0).build();
            try (BenchRig rig = new BenchRig(s)) {
                Thread.sleep(2000); // warm-up
                long p0 = rig.stat(0, "packets");
                long b0 = rig.stat(0, "bytes");
                long t0 = System.nanoTime();
                Thread.sleep(seconds * 1000L);
                double dt = (System.nanoTime() - t0) / 1e9;
                double pps = (rig.stat(0, "packets") - p0) / dt;
                double bps = (rig.stat(0, "bytes") - b0) / dt;
                System.out.printf("sim RX, %s: %.0f packets/s, %.0f MB/s, ratio to copy %.2f (drops %d, corrupt %d)%n",
                        socketShare == 0 ? "verified and recycled in NAPI" : "verified on a socket thread", pps,
                        bps / 1e6, bps / copy, rig.stat(0, "drops"), rig.stat(0, "corrupt"));
            }
        }
    }

    private static double copyBytesPerSecond(int seconds) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(1 << 20, 4096);
            for (long i = 0; i < src.byteSize(); i += 8) {
                src.set(ValueLayout.JAVA_LONG, i, i * 0x9E3779B97F4A7C15L);
            }
            MemorySegment pages = arena.allocate(1024L * 4096, 4096);
            long bytes = 0;
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            long t0 = System.nanoTime();
            long i = 0;
            while (System.nanoTime() < end) {
                for (int k = 0; k < 1024; k++, i++) {
                    MemorySegment.copy(src, (i * 7919 * 8) % ((1 << 20) - 4096), pages, (long) k * 4096, 1500);
                }
                bytes += 1024L * 1500;
            }
            return bytes / ((System.nanoTime() - t0) / 1e9);
        }
    }
}

package pagepool.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import pagepool.driver.sim.SimSettings;
import pagepool.provider.hugepage.HugePageProvider;

/**
 * The same traffic on the same queue, on the heap provider and then on huge pages: IOTLB misses
 * per million packets and RX throughput (1500-byte packets, unbounded load, 1024-entry ring,
 * 64-entry 4-way IOTLB), plus the huge pages the kernel reports before and after the provider
 * mapped its memory. Run with {@code ./bench iotlb [seconds]}.
 */
public final class IotlbHugePages {

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        SimSettings s = SimSettings.builder("sim0").rxQueues(1).ratePps(0).socketFraction(0).holdMicros(0).build();
        System.out.println("before: " + meminfo());
        try (BenchRig rig = new BenchRig(s)) {
            measure(rig, "heap", seconds);
            HugePageProvider huge = new HugePageProvider(16, 2L << 20, true, true);
            System.out.println("after mapping 16 x 2 MiB: " + meminfo());
            rig.add(huge);
            rig.bindings.bind("sim0", List.of(0), "hugepage");
            measure(rig, "hugepage", seconds);
            rig.device.close();
            huge.deactivate();
        }
    }

    private static void measure(BenchRig rig, String provider, int seconds) throws InterruptedException {
        Thread.sleep(2000);
        long p0 = rig.stat(0, "packets");
        long b0 = rig.stat(0, "bytes");
        long l0 = rig.stat(0, "iotlb-lookups");
        long m0 = rig.stat(0, "iotlb-misses");
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        double dt = (System.nanoTime() - t0) / 1e9;
        long packets = rig.stat(0, "packets") - p0;
        long lookups = rig.stat(0, "iotlb-lookups") - l0;
        long misses = rig.stat(0, "iotlb-misses") - m0;
        System.out.printf("%-8s %.0f packets/s, %.0f MB/s; IOTLB %d lookups, %d misses = %.0f misses per million"
                + " packets (corrupt %d)%n", provider, packets / dt, (rig.stat(0, "bytes") - b0) / dt / 1e6, lookups,
                misses, misses * 1e6 / packets, rig.stat(0, "corrupt"));
    }

    private static String meminfo() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream()
                    .filter(l -> l.startsWith("AnonHugePages") || l.startsWith("HugePages_Total")
                            || l.startsWith("HugePages_Free"))
                    .map(l -> l.replaceAll("\\s+", " ")).reduce((a, b) -> a + ", " + b).orElse("?");
        } catch (Exception e) {
            return "unavailable: " + e;
        }
    }
}

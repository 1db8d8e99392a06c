package pagepool.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;

import pagepool.driver.sim.Packet;
import pagepool.driver.sim.SimSettings;

/**
 * One queue's RX throughput with 1500-byte packets on the heap provider, unbounded offered load,
 * beside two references measured in the same run: a plain {@code MemorySegment.copy} of the same
 * bytes into page-sized buffers, and the floor — the sim's per-packet data work alone (the NIC's
 * header and payload writes into a rotating page, then the consumer's verification of every
 * byte) in a bare loop, with no pool, queue or thread. Two consumers: every packet verified and
 * recycled in NAPI (one core), and every packet handed to a socket thread (verification on the
 * other core), which holds the sender back when it is full: unbounded, then offered at fractions
 * of what it carried. Run with {@code ./bench rx [seconds]}.
 */
public final class RxThroughput {

    private static final int PACKET = 1500;
    private static final int PAGES = 1024;

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        double copy = copyBytesPerSecond(seconds);
        System.out.printf("plain MemorySegment.copy of 1500 bytes into 1024 rotating 4 KiB pages: %.0f MB/s%n",
                copy / 1e6);
        double floor = floorPacketsPerSecond(seconds);
        System.out.printf("floor: the sim's data work per packet in a bare loop: %.0f packets/s, %.0f MB/s,"
                + " ratio to copy %.2f%n", floor, floor * PACKET / 1e6, floor * PACKET / copy);
        measure("verified and recycled in NAPI", 0.0, 0, seconds, copy, floor);
        double capacity = measure("verified on a socket thread", 1.0, 0, seconds, copy, floor);
        // The socket path holds the sender back when it is full: offered rates below and at what it
        // carried unbounded show the highest rate it takes as offered.
        for (double share : new double[] {0.5, 0.75, 0.9, 1.0}) {
            long rate = Math.round(capacity * share / 1000) * 1000;
            measure("socket thread, offered " + rate + " packets/s", 1.0, rate, seconds, copy, floor);
        }
    }

    /** @return packets delivered per second */
    private static double measure(String what, double socketShare, long ratePps, int seconds, double copy, double floor)
            throws InterruptedException {
        SimSettings s = SimSettings.builder("sim0").rxQueues(1).ratePps(ratePps).socketFraction(socketShare).holdMicros(0)
                .build();
        try (BenchRig rig = new BenchRig(s)) {
            Thread.sleep(2000); // warm-up
            long p0 = rig.stat(0, "packets");
            long b0 = rig.stat(0, "bytes");
            long d0 = rig.stat(0, "drops");
            long h0 = rig.stat(0, "backpressure");
            Thread napi = thread("napi-sim0-");
            long a0 = allocated(napi);
            long t0 = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            double dt = (System.nanoTime() - t0) / 1e9;
            long packets = rig.stat(0, "packets") - p0;
            double napiBytesPerPacket = (allocated(napi) - a0) / (double) Math.max(1, packets);
            double pps = packets / dt;
            double bps = (rig.stat(0, "bytes") - b0) / dt;
            System.out.printf("sim RX, %s: %.0f packets/s, %.0f MB/s, ratio to copy %.2f, to the floor %.2f"
                    + " (drops %d, held back %d times, corrupt %d; NAPI allocated %.2f bytes per packet)%n", what, pps,
                    bps / 1e6, bps / copy, pps / floor, rig.stat(0, "drops") - d0, rig.stat(0, "backpressure") - h0,
                    rig.stat(0, "corrupt"), napiBytesPerPacket);
            return pps;
        }
    }

    private static Thread thread(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).findFirst()
                .orElseThrow();
    }

    /** Bytes of heap the thread has allocated so far. */
    private static long allocated(Thread t) {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getThreadAllocatedBytes(
                t.threadId());
    }

    private static double copyBytesPerSecond(int seconds) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(1 << 20, 4096);
            for (long i = 0; i < src.byteSize(); i += 8) {
                src.set(ValueLayout.JAVA_LONG, i, i * 0x9E3779B97F4A7C15L);
            }
            MemorySegment pages = arena.allocate((long) PAGES * 4096, 4096);
            copyFor(src, pages, 2); // warm-up
            long t0 = System.nanoTime();
            long bytes = copyFor(src, pages, seconds);
            return bytes / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private static long copyFor(MemorySegment src, MemorySegment pages, int seconds) {
        long bytes = 0;
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long i = 0;
        while (System.nanoTime() < end) {
            for (int k = 0; k < PAGES; k++, i++) {
                MemorySegment.copy(src, (i * 7919 * 8) % ((1 << 20) - 4096), pages, (long) k * 4096, PACKET);
            }
            bytes += (long) PAGES * PACKET;
        }
        return bytes;
    }

    /** The floor: what RxPath writes and the consumer verifies, per packet, nothing else. */
    private static double floorPacketsPerSecond(int seconds) {
        try (Arena arena = Arena.ofConfined()) {
            Packet.Template template = new Packet.Template(arena, "sim0".hashCode());
            MemorySegment pages = arena.allocate((long) PAGES * 4096, 4096);
            floorFor(template, pages, 2); // warm-up
            long t0 = System.nanoTime();
            long packets = floorFor(template, pages, seconds);
            return packets / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private static long floorFor(Packet.Template t, MemorySegment pages, int seconds) {
        int payloadLen = PACKET - Packet.HEADER_LEN;
        long seq = 0;
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            for (int k = 0; k < PAGES; k++, seq++) {
                long at = (long) k * 4096;
                Packet.writeHeader(pages, at, seq, payloadLen, 0, t.checksum(seq, payloadLen));
                Packet.writePayload(t, seq, pages, at + Packet.HEADER_LEN, payloadLen);
                String bad = Packet.verify(t, pages, at, pages, at + Packet.HEADER_LEN, 0);
                if (bad != null) {
                    throw new AssertionError(bad);
                }
            }
        }
        return seq;
    }
}

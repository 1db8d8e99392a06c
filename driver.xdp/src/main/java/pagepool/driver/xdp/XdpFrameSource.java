package pagepool.driver.xdp;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import pagepool.kit.linux.Libc;
import pagepool.kit.traffic.Traffic;

/**
 * A traffic source that outruns any receiver on a small machine, the same for every receiver:
 * the kernel sends one UDP frame {@code count} times out of an interface from the calling CPU,
 * with no socket and no copy per frame ({@code BPF_PROG_RUN} with
 * {@code BPF_F_TEST_XDP_LIVE_FRAMES} on a program that answers {@code XDP_TX}, as xdp-trafficgen
 * does). On a veth pair the frames arrive at the peer's RX queue numbered like the sending CPU;
 * the peer needs an XDP program in native mode (its NAPI side), which driver.xdp attaches and a
 * plain-socket receiver gets from {@link #passProgram}. The frame is addressed to the peer's MAC
 * and IPv4 address with a verifiable payload ({@link Traffic}), and a correct IPv4 header
 * checksum, so the kernel's stack takes it too.
 */
public final class XdpFrameSource implements AutoCloseable {

    /**
     * Frames per run of the program: a veth's RX ring holds 256, and a batch of 256 overflowed
     * it now and then (8 of every 1,000 frames dropped as the interface's rx_dropped); 64 did not.
     */
    private static final int BATCH = 64;

    private final Arena arena = Arena.ofShared();
    private final Libc libc = new Libc(arena);
    private final Bpf bpf = new Bpf(arena, libc);
    private final int ifindex;
    private final int program;
    private final byte[] sourceMac;

    /**
     * @param via the interface the frames leave by (on a veth pair: the receiver's peer)
     * @throws IllegalArgumentException when there is no such interface
     * @throws Libc.SysException when the program cannot be loaded (privileges)
     */
    public XdpFrameSource(String via) {
        this.ifindex = libc.ifIndex(via);
        if (ifindex == 0) {
            arena.close();
            throw new IllegalArgumentException("interface: '" + via + "' (expected: an interface of this host)");
        }
        this.sourceMac = mac(via);
        this.program = bpf.progLoadXdp(XdpProgram.transmit(), "pp_tx");
    }

    /** The MAC address of an interface, from sysfs. */
    public static byte[] mac(String ifname) {
        try {
            String[] parts = Files.readString(Path.of("/sys/class/net", ifname, "address")).strip().split(":");
            byte[] b = new byte[6];
            for (int i = 0; i < 6; i++) {
                b[i] = (byte) Integer.parseInt(parts[i], 16);
            }
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException("MAC address of " + ifname, e);
        }
    }

    /**
     * Sends {@code count} frames carrying a UDP datagram of {@code payload} bytes from
     * {@code srcIp:srcPort} to {@code dstIp:dstPort} at {@code dstMac}, from CPU {@code cpu}
     * (the calling thread is pinned to it). Returns when the kernel sent them all.
     *
     * @return nanoseconds it took
     */
    public long send(byte[] dstMac, int srcIp, int dstIp, int srcPort, int dstPort, int payload, long count, int cpu) {
        if (payload < Traffic.MIN_SIZE || payload > 1472) {
            throw new IllegalArgumentException("payload: " + payload + " (expected: " + Traffic.MIN_SIZE
                    + "..1472, a datagram in one 1500-byte frame)");
        }
        byte[] f = frame(dstMac, sourceMac, srcIp, dstIp, srcPort, dstPort, payload);
        try (Arena a = Arena.ofConfined()) {
            Libc l = new Libc(a);
            Bpf b = new Bpf(a, l);
            l.pinTo(cpu);
            MemorySegment data = a.allocate(f.length, 64);
            MemorySegment.copy(f, 0, data, JAVA_BYTE, 0, f.length);
            MemorySegment ctx = a.allocate(XdpProgram.XDP_MD, 4);
            ctx.set(JAVA_INT, XdpProgram.MD_DATA_END, f.length);
            ctx.set(JAVA_INT, XdpProgram.MD_INGRESS_IFINDEX, ifindex);
            long t0 = System.nanoTime();
            long left = count;
            while (left > 0) {
                int n = (int) Math.min(left, 1L << 30);
                b.progTestRun(program, data, ctx, n, Bpf.F_TEST_XDP_LIVE_FRAMES, BATCH);
                left -= n;
            }
            return System.nanoTime() - t0;
        }
    }

    /** An Ethernet frame with an IPv4 UDP datagram whose payload is verifiable. */
    static byte[] frame(byte[] dstMac, byte[] srcMac, int srcIp, int dstIp, int srcPort, int dstPort, int payload) {
        int ipLength = 20 + 8 + payload;
        byte[] f = new byte[14 + ipLength];
        System.arraycopy(dstMac, 0, f, 0, 6);
        System.arraycopy(srcMac, 0, f, 6, 6);
        f[12] = 0x08;
        f[14] = 0x45;
        f[16] = (byte) (ipLength >>> 8);
        f[17] = (byte) ipLength;
        f[20] = 0x40; // don't fragment
        f[22] = 64;
        f[23] = 17;
        put32(f, 26, srcIp);
        put32(f, 30, dstIp);
        int sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += ((f[i] & 0xff) << 8) | (f[i + 1] & 0xff);
        }
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = (sum & 0xffff) + (sum >>> 16);
        f[24] = (byte) (~sum >>> 8);
        f[25] = (byte) ~sum;
        f[34] = (byte) (srcPort >>> 8);
        f[35] = (byte) srcPort;
        f[36] = (byte) (dstPort >>> 8);
        f[37] = (byte) dstPort;
        f[38] = (byte) ((8 + payload) >>> 8);
        f[39] = (byte) (8 + payload); // UDP checksum 0: none, as IPv4 allows
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(payload);
            Traffic.write(p, 0, payload, 0, srcPort, srcPort);
            MemorySegment.copy(p, JAVA_BYTE, 0, f, 42, payload);
        }
        return f;
    }

    private static void put32(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    /**
     * Attaches an {@code XDP_PASS} program to {@code ifname} in native mode, for as long as the
     * returned handle is open: on a veth that is what lets frames sent by {@link #send} arrive
     * for a receiver that is not driver.xdp (a socket of the kernel's stack).
     */
    public static AutoCloseable passProgram(String ifname) {
        Arena a = Arena.ofShared();
        Libc l = new Libc(a);
        Bpf b = new Bpf(a, l);
        int index = l.ifIndex(ifname);
        XdpProgram.Asm asm = new XdpProgram.Asm();
        asm.movImm(0, XdpProgram.XDP_PASS);
        asm.exit();
        int prog = b.progLoadXdp(asm.bytes(), "pp_pass");
        int link;
        try {
            link = b.linkXdp(prog, index, Bpf.XDP_FLAGS_DRV_MODE);
        } catch (RuntimeException e) {
            l.close(prog);
            a.close();
            throw e;
        }
        return () -> {
            l.close(link);
            l.close(prog);
            a.close();
        };
    }

    @Override
    public void close() {
        libc.close(program);
        arena.close();
    }

    /**
     * {@code java -cp driver.xdp-*.jar pagepool.driver.xdp.XdpFrameSource VIA DST-MAC PORT SIZE COUNT [CPUS]}:
     * sends COUNT frames of a SIZE-byte datagram to PORT at DST-MAC out of VIA, from each CPU
     * listed (e.g. {@code 0,1}; default 0), as root; prints what each CPU sent and the total. The
     * traffic for a device on the other end of a veth pair, also from another network namespace
     * ({@code ip netns exec NS java ...}).
     */
    public static void main(String[] args) throws InterruptedException {
        if (args.length < 5) {
            System.err.println("usage: XdpFrameSource VIA DST-MAC PORT SIZE COUNT [CPUS]   e.g. veth1"
                    + " 02:00:00:00:00:01 9000 64 1000000 0,1");
            System.exit(2);
        }
        String[] m = args[1].split(":");
        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) {
            mac[i] = (byte) Integer.parseInt(m[i], 16);
        }
        int port = Integer.parseInt(args[2]);
        int size = Integer.parseInt(args[3]);
        long count = Long.parseLong(args[4]);
        String[] cpus = (args.length > 5 ? args[5] : "0").split(",");
        try (XdpFrameSource source = new XdpFrameSource(args[0])) {
            Thread[] t = new Thread[cpus.length];
            for (int i = 0; i < cpus.length; i++) {
                int cpu = Integer.parseInt(cpus[i].strip());
                t[i] = new Thread(() -> {
                    long ns = source.send(mac, 0x0a000001, 0x0a000002, 40000 + cpu, port, size, count, cpu);
                    System.out.printf(java.util.Locale.ROOT, "cpu %d: %d frames in %.3f s, %.0f/s%n", cpu, count,
                            ns / 1e9, count * 1e9 / ns);
                });
                t[i].start();
            }
            for (Thread x : t) {
                x.join();
            }
            System.out.println("sent " + count * cpus.length);
        }
    }
}

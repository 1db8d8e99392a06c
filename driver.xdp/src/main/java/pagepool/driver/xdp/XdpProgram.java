package pagepool.driver.xdp;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The XDP program the driver attaches, written out as BPF instructions (no compiler, no libbpf):
 * a frame to one of the device's UDP ports (IPv4 with any header length, unfragmented, or IPv6
 * without extension headers) goes to the AF_XDP socket of its RX queue through the XSKMAP; when
 * the queue has no socket (it is stopped or between two sockets in a swap) the frame is dropped
 * and counted in the queue's slot of a counter map, so nothing the device owns is lost
 * uncounted. Every other frame (ARP, other ports, fragments) goes on to the kernel's stack.
 *
 * <p>Register use: r6 the context, r2/r3 the packet's start and end, r4 the header under test,
 * r5 scratch.
 */
final class XdpProgram {

    static final int XDP_ABORTED = 0;
    static final int XDP_DROP = 1;
    static final int XDP_PASS = 2;
    static final int XDP_TX = 3;
    static final int XDP_REDIRECT = 4;

    /** {@code struct xdp_md}: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex. */
    static final int XDP_MD = 24;
    static final int MD_DATA = 0;
    static final int MD_DATA_END = 4;
    static final int MD_INGRESS_IFINDEX = 12;
    static final int MD_RX_QUEUE = 16;

    private static final int HELPER_MAP_LOOKUP = 1;
    private static final int HELPER_REDIRECT_MAP = 51;
    private static final int ETH_HLEN = 14;
    private static final int IPPROTO_UDP = 17;
    /** Ethertypes as a little-endian load of their big-endian bytes sees them. */
    private static final int ETH_P_IP_LE = 0x0008;
    private static final int ETH_P_IPV6_LE = 0xdd86;

    private XdpProgram() {
    }

    /** Most ports one program matches: each is one compare on the fast path. */
    static final int MAX_PORTS = 8;

    /**
     * The receive program.
     *
     * @param xskMap the XSKMAP's fd, keyed by RX queue
     * @param unbound the ARRAY map's fd (u32 queue → u64 frames dropped because the queue had no socket)
     */
    static byte[] receive(int[] ports, int xskMap, int unbound) {
        if (ports.length == 0 || ports.length > MAX_PORTS) {
            throw new IllegalArgumentException("ports: " + ports.length + " (expected: 1.." + MAX_PORTS + ")");
        }
        Asm a = new Asm();
        a.movReg(6, 1);
        a.ldx(Asm.W, 2, 6, MD_DATA);
        a.ldx(Asm.W, 3, 6, MD_DATA_END);
        a.movReg(4, 2);
        a.addImm(4, ETH_HLEN);
        a.jgtReg(4, 3, "pass");
        a.ldx(Asm.H, 5, 2, 12); // ethertype
        a.jeqImm(5, ETH_P_IP_LE, "ipv4");
        a.jeqImm(5, ETH_P_IPV6_LE, "ipv6");
        a.ja("pass");

        a.label("ipv4");
        a.movReg(4, 2);
        a.addImm(4, ETH_HLEN + 20);
        a.jgtReg(4, 3, "pass");
        a.ldx(Asm.B, 5, 2, ETH_HLEN + 9); // protocol
        a.jneImm(5, IPPROTO_UDP, "pass");
        a.ldx(Asm.H, 5, 2, ETH_HLEN + 6); // flags and fragment offset
        a.andImm(5, 0xff3f); // MF and the offset (big-endian 0x3fff): a fragment goes to the stack
        a.jneImm(5, 0, "pass");
        a.ldx(Asm.B, 5, 2, ETH_HLEN); // version and header length
        a.andImm(5, 0x0f);
        a.lshImm(5, 2);
        a.movReg(4, 2);
        a.addReg(4, 5);
        a.addImm(4, ETH_HLEN); // the UDP header
        a.movReg(5, 4);
        a.addImm(5, 8);
        a.jgtReg(5, 3, "pass");
        a.ja("port");

        a.label("ipv6");
        a.movReg(4, 2);
        a.addImm(4, ETH_HLEN + 40 + 8);
        a.jgtReg(4, 3, "pass");
        a.ldx(Asm.B, 5, 2, ETH_HLEN + 6); // next header
        a.jneImm(5, IPPROTO_UDP, "pass");
        a.movReg(4, 2);
        a.addImm(4, ETH_HLEN + 40);

        a.label("port");
        a.ldx(Asm.H, 5, 4, 2); // destination port
        for (int p : ports) {
            a.jeqImm(5, Integer.reverseBytes(p) >>> 16, "redirect");
        }
        a.ja("pass");

        a.label("redirect");
        a.ldx(Asm.W, 2, 6, MD_RX_QUEUE);
        a.stx(Asm.W, 10, 2, -4); // the queue, as the counter map's key
        a.ldMapFd(1, xskMap);
        a.movImm(3, XDP_DROP); // the verdict when the queue has no socket
        a.call(HELPER_REDIRECT_MAP);
        a.jneImm(0, XDP_REDIRECT, "unbound");
        a.exit();

        a.label("unbound");
        a.ldMapFd(1, unbound);
        a.movReg(2, 10);
        a.addImm(2, -4);
        a.call(HELPER_MAP_LOOKUP);
        a.jeqImm(0, 0, "drop");
        a.movImm(1, 1);
        a.atomicAdd(0, 1, 0);
        a.label("drop");
        a.movImm(0, XDP_DROP);
        a.exit();

        a.label("pass");
        a.movImm(0, XDP_PASS);
        a.exit();
        return a.bytes();
    }

    /** The traffic source's program: every frame leaves by the interface it came in on. */
    static byte[] transmit() {
        Asm a = new Asm();
        a.movImm(0, XDP_TX);
        a.exit();
        return a.bytes();
    }

    /** A minimal BPF assembler: 64-bit instructions, labels resolved at the end. */
    static final class Asm {
        static final int W = 0x00;
        static final int H = 0x08;
        static final int B = 0x10;
        static final int DW = 0x18;

        private final List<long[]> insns = new ArrayList<>(); // code, dst, src, off, imm
        private final Map<String, Integer> labels = new HashMap<>();
        private final Map<Integer, String> jumps = new HashMap<>();

        private void emit(int code, int dst, int src, int off, int imm) {
            insns.add(new long[] {code, dst, src, off, imm});
        }

        void label(String name) {
            if (labels.putIfAbsent(name, insns.size()) != null) {
                throw new IllegalStateException("label " + name + " defined twice");
            }
        }

        private void jump(int code, int dst, int src, int imm, String to) {
            jumps.put(insns.size(), to);
            emit(code, dst, src, 0, imm);
        }

        void movReg(int dst, int src) {
            emit(0xbf, dst, src, 0, 0);
        }

        void movImm(int dst, int imm) {
            emit(0xb7, dst, 0, 0, imm);
        }

        void addImm(int dst, int imm) {
            emit(0x07, dst, 0, 0, imm);
        }

        void addReg(int dst, int src) {
            emit(0x0f, dst, src, 0, 0);
        }

        void andImm(int dst, int imm) {
            emit(0x57, dst, 0, 0, imm);
        }

        void lshImm(int dst, int imm) {
            emit(0x67, dst, 0, 0, imm);
        }

        /** dst = *(size *)(src + off) */
        void ldx(int size, int dst, int src, int off) {
            emit(0x61 | size, dst, src, off, 0);
        }

        /** *(size *)(dst + off) = src */
        void stx(int size, int dst, int src, int off) {
            emit(0x63 | size, dst, src, off, 0);
        }

        /** lock *(u64 *)(dst + off) += src */
        void atomicAdd(int dst, int src, int off) {
            emit(0xdb, dst, src, off, 0);
        }

        /** dst = the map with this fd (a two-slot instruction the loader turns into the map's address). */
        void ldMapFd(int dst, int fd) {
            emit(0x18, dst, 1, 0, fd); // BPF_PSEUDO_MAP_FD
            emit(0, 0, 0, 0, 0);
        }

        void jeqImm(int dst, int imm, String to) {
            jump(0x15, dst, 0, imm, to);
        }

        void jneImm(int dst, int imm, String to) {
            jump(0x55, dst, 0, imm, to);
        }

        void jgtReg(int dst, int src, String to) {
            jump(0x2d, dst, src, 0, to);
        }

        void ja(String to) {
            jump(0x05, 0, 0, 0, to);
        }

        void call(int helper) {
            emit(0x85, 0, 0, 0, helper);
        }

        void exit() {
            emit(0x95, 0, 0, 0, 0);
        }

        byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream(insns.size() * 8);
            for (int i = 0; i < insns.size(); i++) {
                long[] in = insns.get(i);
                int off = (int) in[3];
                String to = jumps.get(i);
                if (to != null) {
                    Integer target = labels.get(to);
                    if (target == null) {
                        throw new IllegalStateException("no label " + to);
                    }
                    off = target - i - 1;
                }
                int imm = (int) in[4];
                out.write((int) in[0]);
                out.write((int) (in[2] << 4 | in[1]));
                out.write(off & 0xff);
                out.write((off >> 8) & 0xff);
                out.write(imm & 0xff);
                out.write((imm >> 8) & 0xff);
                out.write((imm >> 16) & 0xff);
                out.write((imm >> 24) & 0xff);
            }
            return out.toByteArray();
        }
    }
}

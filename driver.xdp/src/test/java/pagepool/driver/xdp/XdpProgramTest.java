package pagepool.driver.xdp;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HexFormat;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import pagepool.kit.linux.Libc;

/** The program's bytes, and, where the kernel lets us load it, its verdicts on frames. */
class XdpProgramTest {

    static final byte[] MAC = {2, 0, 0, 0, 0, 1};

    @Test
    void instructionsAreEncodedAsTheKernelReadsThem() {
        // r0 = XDP_TX (BPF_ALU64 | BPF_MOV | BPF_K, dst r0, imm 3); exit
        assertEquals("b700000003000000" + "9500000000000000", HexFormat.of().formatHex(XdpProgram.transmit()));
        XdpProgram.Asm a = new XdpProgram.Asm();
        a.jeqImm(5, 0x3412, "end"); // a forward jump: offset counts the instructions skipped
        a.ldx(XdpProgram.Asm.H, 5, 4, 2);
        a.ldMapFd(1, 7); // two slots, src = BPF_PSEUDO_MAP_FD (1), dst r1
        a.label("end");
        a.exit();
        assertEquals("1505030012340000" + "6945020000000000" + "1811000007000000" + "0000000000000000"
                + "9500000000000000", HexFormat.of().formatHex(a.bytes()));
        XdpProgram.Asm bad = new XdpProgram.Asm();
        bad.ja("nowhere");
        assertEquals("no label nowhere", assertThrows(IllegalStateException.class, bad::bytes).getMessage());
    }

    @Test
    void theReceiveProgramIsRefusedWithoutPortsOrWithTooMany() {
        assertEquals("ports: 0 (expected: 1..8)", assertThrows(IllegalArgumentException.class,
                () -> XdpProgram.receive(new int[0], 3, 4)).getMessage());
        assertEquals("ports: 9 (expected: 1..8)", assertThrows(IllegalArgumentException.class,
                () -> XdpProgram.receive(new int[9], 3, 4)).getMessage());
    }

    /**
     * Runs the program on frames with {@code BPF_PROG_TEST_RUN}: the queue has no socket, so a
     * frame for the port is dropped and counted; everything else passes to the stack.
     */
    @Test
    void theKernelRunsTheProgramSteeringOnlyUdpToItsPorts() {
        String why = Veth.unavailable();
        Assumptions.assumeTrue(why == null, why);
        try (Arena arena = Arena.ofConfined()) {
            Libc libc = new Libc(arena);
            Bpf bpf = new Bpf(arena, libc);
            int xsks = bpf.mapCreate(Bpf.MAP_TYPE_XSKMAP, 4, 4, 4, "t_xsks");
            int unbound = bpf.mapCreate(Bpf.MAP_TYPE_ARRAY, 4, 8, 4, "t_unbound");
            int prog = bpf.progLoadXdp(XdpProgram.receive(new int[] {9000, 9002}, xsks, unbound), "t_rx");
            try {
                MemorySegment kv = arena.allocate(16, 8);
                byte[] udp = XdpFrameSource.frame(MAC, MAC, 0x0a000001, 0x0a000002, 1234, 9000, 64);
                assertEquals(XdpProgram.XDP_DROP, run(bpf, arena, prog, udp), "our port, no socket: dropped");
                assertEquals(1, bpf.mapLookupLong(unbound, 0, kv), "... and counted for queue 0");
                assertEquals(XdpProgram.XDP_DROP, run(bpf, arena, prog, XdpFrameSource.frame(MAC, MAC, 1, 2, 1, 9002,
                        64)), "the second port too");
                assertEquals(XdpProgram.XDP_PASS, run(bpf, arena, prog, XdpFrameSource.frame(MAC, MAC, 1, 2, 1, 9001,
                        64)), "another port: the stack's");
                byte[] arp = udp.clone();
                arp[12] = 0x08;
                arp[13] = 0x06;
                assertEquals(XdpProgram.XDP_PASS, run(bpf, arena, prog, arp), "ARP: the stack's");
                byte[] fragment = udp.clone();
                fragment[20] = 0x20; // more fragments
                assertEquals(XdpProgram.XDP_PASS, run(bpf, arena, prog, fragment), "a fragment: the stack reassembles");
                byte[] tcp = udp.clone();
                tcp[23] = 6;
                assertEquals(XdpProgram.XDP_PASS, run(bpf, arena, prog, tcp), "TCP: the stack's");
                assertEquals(XdpProgram.XDP_DROP, run(bpf, arena, prog, withIpOption(udp)), "a longer IPv4 header");
                assertEquals(XdpProgram.XDP_DROP, run(bpf, arena, prog, ipv6(9000)), "IPv6 UDP to the port");
                assertEquals(XdpProgram.XDP_PASS, run(bpf, arena, prog, ipv6(53)), "IPv6 UDP elsewhere");
                byte[] runt = new byte[20];
                System.arraycopy(udp, 0, runt, 0, 20);
                assertEquals(XdpProgram.XDP_PASS, run(bpf, arena, prog, runt), "a runt frame: no read past its end");
                assertEquals(4, bpf.mapLookupLong(unbound, 0, kv), "each frame dropped, counted once");
            } finally {
                libc.close(prog);
                libc.close(xsks);
                libc.close(unbound);
            }
        }
    }

    static int run(Bpf bpf, Arena arena, int prog, byte[] frame) {
        MemorySegment data = arena.allocate(Math.max(frame.length, 14), 8);
        MemorySegment.copy(frame, 0, data, JAVA_BYTE, 0, frame.length);
        return bpf.progTestRun(prog, data.asSlice(0, frame.length), null, 1, 0, 0);
    }

    static byte[] withIpOption(byte[] udp) {
        byte[] f = new byte[udp.length + 4];
        System.arraycopy(udp, 0, f, 0, 34);
        System.arraycopy(udp, 34, f, 38, udp.length - 34);
        f[14] = 0x46; // IHL 6: a 4-byte option (left as zeros: end of options)
        return f;
    }

    static byte[] ipv6(int port) {
        byte[] f = new byte[14 + 40 + 8 + 64];
        System.arraycopy(MAC, 0, f, 0, 6);
        f[12] = (byte) 0x86;
        f[13] = (byte) 0xdd;
        f[14] = 0x60;
        f[19] = 8 + 64;
        f[20] = 17; // next header: UDP
        f[21] = 64;
        f[54 + 2] = (byte) (port >>> 8);
        f[54 + 3] = (byte) port;
        f[54 + 5] = 8 + 64;
        return f;
    }

    @Test
    void framesCarryACorrectIpv4HeaderChecksum() {
        byte[] f = XdpFrameSource.frame(MAC, MAC, 0x0a000001, 0x0a000002, 1234, 9000, 100);
        int sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += ((f[i] & 0xff) << 8) | (f[i + 1] & 0xff);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        assertEquals(0xffff, sum, "a header with its checksum sums to all ones");
        assertArrayEquals(new byte[] {0, 100 + 8}, new byte[] {f[38], f[39]});
    }
}

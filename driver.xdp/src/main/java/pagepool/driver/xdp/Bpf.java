package pagepool.driver.xdp;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import pagepool.kit.linux.Libc;

/**
 * The {@code bpf(2)} commands the driver needs, as raw system calls (no libbpf): maps, loading a
 * program, attaching it to an interface through a BPF link (which detaches when its file
 * descriptor closes, so a crashed runtime leaves no program behind) and running a program on a
 * frame ({@code BPF_PROG_TEST_RUN}, the traffic source). Each {@code union bpf_attr} is laid out
 * here once, at the offsets of {@code include/uapi/linux/bpf.h}.
 */
final class Bpf {

    /** {@code __NR_bpf} on x86-64. */
    private static final long SYS_BPF = 321;
    private static final int MAP_CREATE = 0;
    private static final int MAP_LOOKUP_ELEM = 1;
    private static final int MAP_UPDATE_ELEM = 2;
    private static final int MAP_DELETE_ELEM = 3;
    private static final int PROG_LOAD = 5;
    private static final int PROG_TEST_RUN = 10;
    private static final int LINK_CREATE = 28;

    static final int MAP_TYPE_ARRAY = 2;
    static final int MAP_TYPE_XSKMAP = 17;
    static final int PROG_TYPE_XDP = 6;
    /** {@code BPF_XDP}: the attach type of an XDP link. */
    static final int ATTACH_XDP = 37;
    /** {@code XDP_FLAGS_SKB_MODE}: generic XDP, after the kernel built an skb. */
    static final int XDP_FLAGS_SKB_MODE = 1 << 1;
    /** {@code XDP_FLAGS_DRV_MODE}: native XDP, in the driver's receive path. */
    static final int XDP_FLAGS_DRV_MODE = 1 << 2;
    /** {@code BPF_F_TEST_XDP_LIVE_FRAMES}: a test run whose verdicts act (XDP_TX transmits). */
    static final int F_TEST_XDP_LIVE_FRAMES = 1 << 1;

    private static final int ATTR = 128;
    private static final int LOG = 64 * 1024;

    private final Libc libc;
    private final MemorySegment attr;
    private final Arena arena;

    Bpf(Arena arena, Libc libc) {
        this.arena = arena;
        this.libc = libc;
        this.attr = arena.allocate(ATTR, 8);
    }

    private long call(String what, int cmd) {
        return libc.syscall("bpf " + what, SYS_BPF, cmd, attr.address(), ATTR);
    }

    int mapCreate(int type, int keySize, int valueSize, int entries, String name) {
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, type);
        attr.set(JAVA_INT, 4, keySize);
        attr.set(JAVA_INT, 8, valueSize);
        attr.set(JAVA_INT, 12, entries);
        name(28, name);
        return (int) call("BPF_MAP_CREATE " + name, MAP_CREATE);
    }

    private void name(long at, String name) {
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(b, 0, attr, JAVA_BYTE, at, Math.min(b.length, 15)); // BPF_OBJ_NAME_LEN 16
    }

    /** Sets {@code key} (a u32) to the u32 {@code value}, e.g. a socket in an XSKMAP. */
    void mapUpdate(int map, int key, int value) {
        MemorySegment kv = arena.allocate(8, 4);
        kv.set(JAVA_INT, 0, key);
        kv.set(JAVA_INT, 4, value);
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, map);
        attr.set(JAVA_LONG, 8, kv.address());
        attr.set(JAVA_LONG, 16, kv.address() + 4);
        call("BPF_MAP_UPDATE_ELEM", MAP_UPDATE_ELEM);
    }

    /** Removes {@code key}; false when it was not there. */
    boolean mapDelete(int map, int key) {
        MemorySegment k = arena.allocate(4, 4);
        k.set(JAVA_INT, 0, key);
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, map);
        attr.set(JAVA_LONG, 8, k.address());
        long r = libc.syscallOrErrno(SYS_BPF, MAP_DELETE_ELEM, attr.address(), ATTR);
        if (r == -Libc.ENOENT) {
            return false;
        }
        if (r < 0) {
            throw new Libc.SysException("bpf BPF_MAP_DELETE_ELEM", (int) -r);
        }
        return true;
    }

    /** The u64 value at {@code key} of an array map. */
    long mapLookupLong(int map, int key, MemorySegment kv) {
        kv.set(JAVA_INT, 0, key);
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, map);
        attr.set(JAVA_LONG, 8, kv.address());
        attr.set(JAVA_LONG, 16, kv.address() + 8);
        call("BPF_MAP_LOOKUP_ELEM", MAP_LOOKUP_ELEM);
        return kv.get(JAVA_LONG, 8);
    }

    /**
     * Loads an XDP program; a verifier refusal throws with the verifier's log.
     *
     * @param insns the instructions, 8 bytes each
     */
    int progLoadXdp(byte[] insns, String name) {
        MemorySegment code = arena.allocate(insns.length, 8);
        MemorySegment.copy(insns, 0, code, JAVA_BYTE, 0, insns.length);
        MemorySegment license = arena.allocateFrom("GPL");
        MemorySegment log = arena.allocate(LOG);
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, PROG_TYPE_XDP);
        attr.set(JAVA_INT, 4, insns.length / 8);
        attr.set(JAVA_LONG, 8, code.address());
        attr.set(JAVA_LONG, 16, license.address());
        attr.set(JAVA_INT, 24, 1); // log_level: the verifier says why when it refuses
        attr.set(JAVA_INT, 28, LOG);
        attr.set(JAVA_LONG, 32, log.address());
        name(48, name);
        attr.set(JAVA_INT, 68, ATTACH_XDP); // expected_attach_type
        long r = libc.syscallOrErrno(SYS_BPF, PROG_LOAD, attr.address(), ATTR);
        if (r < 0) {
            String verifier = log.getString(0).strip();
            int tail = verifier.length() > 600 ? verifier.length() - 600 : 0;
            throw new Libc.SysException("bpf BPF_PROG_LOAD " + name + (verifier.isEmpty() ? "" : " (verifier: "
                    + verifier.substring(tail).replace('\n', ' ') + ")"), (int) -r);
        }
        return (int) r;
    }

    /** Attaches an XDP program to an interface; the attachment lasts as long as the returned link's fd. */
    int linkXdp(int prog, int ifindex, int flags) {
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, prog);
        attr.set(JAVA_INT, 4, ifindex);
        attr.set(JAVA_INT, 8, ATTACH_XDP);
        attr.set(JAVA_INT, 12, flags);
        return (int) call("BPF_LINK_CREATE", LINK_CREATE);
    }

    /**
     * Runs a program on a frame {@code repeat} times. With {@link #F_TEST_XDP_LIVE_FRAMES} its
     * verdicts act: XDP_TX sends the frame out of the interface {@code ctx} names, from the
     * calling CPU, as xdp-trafficgen does.
     *
     * @param ctx a {@code struct xdp_md} (24 bytes) or null
     * @return the program's last verdict (0 in live mode)
     */
    int progTestRun(int prog, MemorySegment data, MemorySegment ctx, int repeat, int flags, int batch) {
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, prog);
        attr.set(JAVA_INT, 8, (int) data.byteSize());
        attr.set(JAVA_LONG, 16, data.address());
        attr.set(JAVA_INT, 32, repeat);
        if (ctx != null) {
            attr.set(JAVA_INT, 40, (int) ctx.byteSize());
            attr.set(JAVA_LONG, 48, ctx.address());
        }
        attr.set(JAVA_INT, 64, flags);
        attr.set(JAVA_INT, 72, batch);
        call("BPF_PROG_TEST_RUN", PROG_TEST_RUN);
        return attr.get(JAVA_INT, 4);
    }
}

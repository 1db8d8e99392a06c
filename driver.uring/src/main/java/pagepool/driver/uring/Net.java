package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The socket structures the receive paths read and write in native memory, their offsets named
 * here once (x86-64 and arm64 Linux, LP64), and IPv4 socket addresses ({@code struct sockaddr_in}).
 */
final class Net {

    static final int SOCKADDR_IN = 16;

    /** {@code struct iovec}: base, length. */
    static final int IOVEC = 16;
    static final int IOV_BASE = 0;
    static final int IOV_LEN = 8;

    /** {@code struct msghdr}. */
    static final int MSGHDR = 56;
    static final int MSG_NAME = 0;
    static final int MSG_NAMELEN = 8;
    static final int MSG_IOV = 16;
    static final int MSG_IOVLEN = 24;
    static final int MSG_CONTROLLEN = 40;
    static final int MSG_FLAGS = 48;
    /** {@code struct mmsghdr}: a msghdr, then the length received ({@code msg_len}), padded to 64. */
    static final int MMSGHDR = 64;
    static final int MMSG_LEN = 56;

    /** {@code struct pollfd}: fd, events, revents. */
    static final int POLLFD = 8;
    static final int POLL_FD = 0;
    static final int POLL_EVENTS = 4;
    static final int POLL_REVENTS = 6;

    /** {@code struct io_uring_recvmsg_out}, at the start of a multishot recvmsg's buffer. */
    static final int RECVMSG_OUT = 16;
    static final int OUT_CONTROLLEN = 4;
    static final int OUT_PAYLOADLEN = 8;
    static final int OUT_FLAGS = 12;

    /** {@code struct cmsghdr} (len, level, type), then its data; {@code CMSG_SPACE(sizeof(int))} in all. */
    static final int CMSG_LEVEL = 8;
    static final int CMSG_TYPE = 12;
    static final int CMSG_DATA = 16;
    static final int CMSG_SPACE_INT = 24;

    private Net() {
    }

    /** Writes {@code address:port} as a {@code sockaddr_in}. */
    static void sockaddr(MemorySegment sa, long at, int address, int port) {
        sa.asSlice(at, SOCKADDR_IN).fill((byte) 0);
        sa.set(JAVA_SHORT, at, (short) Sys.AF_INET);
        sa.set(JAVA_BYTE, at + 2, (byte) (port >>> 8));
        sa.set(JAVA_BYTE, at + 3, (byte) port);
        for (int i = 0; i < 4; i++) {
            sa.set(JAVA_BYTE, at + 4 + i, (byte) (address >>> (24 - 8 * i)));
        }
    }

    static int port(MemorySegment sa) {
        return port(sa, 0);
    }

    static int port(MemorySegment sa, long at) {
        return ((sa.get(JAVA_BYTE, at + 2) & 0xff) << 8) | (sa.get(JAVA_BYTE, at + 3) & 0xff);
    }

    /** The IPv4 address of a {@code sockaddr_in}, big-endian in an int. */
    static int address(MemorySegment sa, long at) {
        int a = 0;
        for (int i = 0; i < 4; i++) {
            a = (a << 8) | (sa.get(JAVA_BYTE, at + 4 + i) & 0xff);
        }
        return a;
    }

    /**
     * An IPv4 address by name or literal.
     *
     * @throws IllegalArgumentException naming the value when it is not an IPv4 address
     */
    static int ipv4(String name, String what) {
        try {
            InetAddress a = InetAddress.getByName(name);
            if (!(a instanceof Inet4Address v4)) {
                throw new IllegalArgumentException(what + ": '" + name + "' (expected: an IPv4 address)");
            }
            byte[] b = v4.getAddress();
            return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(what + ": '" + name + "' (expected: an IPv4 address or a host name that"
                    + " resolves to one)");
        }
    }

    static String text(int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "."
                + (address & 0xff);
    }
}

package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** IPv4 socket addresses ({@code struct sockaddr_in}, 16 bytes) in native memory. */
final class Net {

    static final int SOCKADDR_IN = 16;

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

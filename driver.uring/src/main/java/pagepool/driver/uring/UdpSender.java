package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.concurrent.locks.LockSupport;

import org.osgi.service.component.annotations.Component;

import pagepool.api.Checks;
import pagepool.api.datagram.DatagramSender;
import pagepool.kit.traffic.Traffic;

/**
 * Verifiable UDP traffic ({@link Traffic}) with {@code sendmmsg}: batches of {@value #BATCH}
 * datagrams from {@value #FLOWS} sockets in turn, each a flow of its own (its source port), so
 * the receiver's {@code SO_REUSEPORT} hash spreads them over its queues as RSS would. Each
 * datagram of a batch has its own payload, written once; only the sequence numbers change.
 * Runs in the framework as a {@link DatagramSender} service ({@code pp:udp_send}) and from the
 * command line ({@code ./udp-send}).
 */
@Component
public final class UdpSender implements DatagramSender {

    static final int BATCH = 64;
    static final int FLOWS = 64;
    /** The most datagrams one message carries with segmentation offload. */
    public static final int MAX_SEGMENTS = 64;

    @Override
    public SendReport send(InetSocketAddress target, int size, long count, long ratePps) {
        return send(target, size, count, ratePps, 1);
    }

    /**
     * As {@link #send(InetSocketAddress, int, long, long)}; with {@code segments} > 1 each
     * {@code sendmmsg} message carries that many datagrams, which the kernel cuts apart
     * ({@code UDP_SEGMENT}, generic segmentation offload): the receiver sees the same datagrams, the
     * sender spends far less per datagram.
     *
     * @throws IllegalArgumentException for segments outside 1..64 or more than 65,507 bytes together
     */
    public SendReport send(InetSocketAddress target, int size, long count, long ratePps, int segments) {
        return send(target, size, count, ratePps, segments, false);
    }

    /**
     * As {@link #send(InetSocketAddress, int, long, long)}, with each datagram's sequence field
     * holding {@link System#nanoTime()} when its burst was handed to the kernel, so that a
     * receiver in the same process measures each datagram's latency from send to delivery
     * ({@link Traffic#sequenceOf}).
     */
    public SendReport sendStamped(InetSocketAddress target, int size, long count, long ratePps) {
        return send(target, size, count, ratePps, 1, true);
    }

    private SendReport send(InetSocketAddress target, int size, long count, long ratePps, int segments,
            boolean stamped) {
        Checks.inRange("size", size, Traffic.MIN_SIZE, Traffic.MAX_SIZE);
        Checks.atLeast("count", count, 0);
        Checks.atLeast("rate", ratePps, 0);
        Checks.inRange("segments", segments, 1, Math.max(1, Math.min(MAX_SEGMENTS, Traffic.MAX_SIZE / size)));
        if (target == null || target.isUnresolved() || !(target.getAddress() instanceof Inet4Address v4)) {
            throw Checks.invalid("target", target, "a resolved IPv4 address and port");
        }
        byte[] b = v4.getAddress();
        int address = ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        return send(address, target.getPort(), size, count, ratePps, segments, stamped);
    }

    static SendReport send(int address, int port, int size, long count, long ratePps) {
        return send(address, port, size, count, ratePps, 1, false);
    }

    static SendReport send(int address, int port, int size, long count, long ratePps, int segments, boolean stamped) {
        try (Arena arena = Arena.ofConfined()) {
            Sys sys = new Sys(arena);
            MemorySegment name = arena.allocate(Net.SOCKADDR_IN, 8);
            Net.sockaddr(name, 0, address, port);
            long message = (long) size * segments;
            MemorySegment payloads = arena.allocate(message * BATCH, 64);
            MemorySegment iovecs = arena.allocate((long) Net.IOVEC * BATCH, 8);
            MemorySegment msgvec = arena.allocate((long) Net.MMSGHDR * BATCH, 8);
            int[] flows = new int[FLOWS];
            java.util.Arrays.fill(flows, -1);
            try {
                for (int f = 0; f < FLOWS; f++) {
                    flows[f] = sys.udpSocket();
                    sys.setInt(flows[f], Sys.SOL_SOCKET, Sys.SO_SNDBUF, 4 << 20, "SO_SNDBUF");
                    if (segments > 1) {
                        sys.setInt(flows[f], Sys.SOL_UDP, Sys.UDP_SEGMENT, size, "UDP_SEGMENT");
                    }
                }
                for (int d = 0; d < BATCH * segments; d++) {
                    Traffic.write(payloads, (long) size * d, size, 0, d % FLOWS, d);
                }
                for (int i = 0; i < BATCH; i++) {
                    iovecs.set(JAVA_LONG, (long) Net.IOVEC * i + Net.IOV_BASE, payloads.address() + message * i);
                    iovecs.set(JAVA_LONG, (long) Net.IOVEC * i + Net.IOV_LEN, message);
                    long m = (long) Net.MMSGHDR * i;
                    msgvec.set(ADDRESS, m + Net.MSG_NAME, name);
                    msgvec.set(JAVA_INT, m + Net.MSG_NAMELEN, Net.SOCKADDR_IN);
                    msgvec.set(ADDRESS, m + Net.MSG_IOV, iovecs.asSlice((long) Net.IOVEC * i, Net.IOVEC));
                    msgvec.set(JAVA_LONG, m + Net.MSG_IOVLEN, 1L);
                }
                return sendAll(sys, flows, payloads, iovecs, msgvec, size, segments, count, ratePps, stamped);
            } finally {
                for (int fd : flows) {
                    if (fd >= 0) {
                        sys.close(fd);
                    }
                }
            }
        }
    }

    private static SendReport sendAll(Sys sys, int[] flows, MemorySegment payloads, MemorySegment iovecs,
            MemorySegment msgvec, int size, int segments, long count, long ratePps, boolean stamped) {
        long start = System.nanoTime();
        long sent = 0;
        long failed = 0;
        int flow = 0;
        // Paced traffic goes in bursts of about a millisecond's worth, not of a whole batch.
        long burst = ratePps > 0 ? Math.max(1, Math.min((long) BATCH * segments, ratePps / 1000)) : BATCH * segments;
        while (sent + failed < count) {
            long seq = sent + failed;
            int datagrams = (int) Math.min(burst, count - seq);
            int n = (datagrams + segments - 1) / segments;
            int last = datagrams - (n - 1) * segments; // datagrams in the last message
            for (int d = 0; d < datagrams; d++) {
                Traffic.sequence(payloads, (long) size * d, seq + d);
            }
            iovecs.set(JAVA_LONG, (long) Net.IOVEC * (n - 1) + Net.IOV_LEN, (long) size * last);
            if (ratePps > 0) {
                long due = start + (long) (seq * 1e9 / ratePps);
                for (long wait; (wait = due - System.nanoTime()) > 0;) {
                    LockSupport.parkNanos(wait);
                }
            }
            if (stamped) {
                long now = System.nanoTime();
                for (int d = 0; d < datagrams; d++) {
                    Traffic.sequence(payloads, (long) size * d, now);
                }
            }
            int done = 0;
            while (done < n) {
                int r = sys.sendmmsg(flows[flow], msgvec.asSlice((long) Net.MMSGHDR * done), n - done);
                if (r == 0) {
                    failed += done == n - 1 ? last : segments; // refused (ENOBUFS): counted, not retried
                    done++;
                } else {
                    sent += (long) r * segments - (done + r == n ? segments - last : 0);
                    done += r;
                }
            }
            iovecs.set(JAVA_LONG, (long) Net.IOVEC * (n - 1) + Net.IOV_LEN, (long) size * segments);
            flow = (flow + 1) % flows.length;
        }
        return new SendReport(sent, failed, System.nanoTime() - start);
    }

    /** {@code ./udp-send host:port [size] [count] [rate] [segments]}: sends and prints what it did. */
    public static void main(String[] args) {
        if (args.length < 1 || args.length > 5) {
            System.err.println("usage: udp-send <host:port> [size 1472] [count 1000000] [rate-pps 0 (as fast as"
                    + " possible)] [segments 1 (datagrams per send the kernel cuts apart, UDP_SEGMENT)]");
            System.exit(2);
        }
        try {
            String t = args[0];
            int colon = t.lastIndexOf(':');
            if (colon < 0) {
                throw Checks.invalid("target", t, "host:port");
            }
            int port = Checks.inRange("port", parse("port", t.substring(colon + 1)), 1, 65535);
            int size = args.length > 1 ? parse("size", args[1]) : 1472;
            long count = args.length > 2 ? parseLong("count", args[2]) : 1_000_000;
            long rate = args.length > 3 ? parseLong("rate", args[3]) : 0;
            int segments = args.length > 4 ? parse("segments", args[4]) : 1;
            SendReport r = new UdpSender().send(new InetSocketAddress(t.substring(0, colon), port), size, count, rate,
                    segments);
            System.out.printf("sent %d datagrams of %d bytes to %s in %.3f s: %.0f/s, %d refused%n", r.sent(), size,
                    t, r.nanos() / 1e9, r.perSecond(), r.failed());
        } catch (IllegalArgumentException e) {
            System.err.println("udp-send: " + e.getMessage());
            System.exit(2);
        }
    }

    private static int parse(String what, String s) {
        long v = parseLong(what, s);
        if (v > Integer.MAX_VALUE) {
            throw Checks.invalid(what, s, "an integer up to " + Integer.MAX_VALUE);
        }
        return (int) v;
    }

    private static long parseLong(String what, String s) {
        return Checks.parseLong(what, s, "an integer");
    }
}

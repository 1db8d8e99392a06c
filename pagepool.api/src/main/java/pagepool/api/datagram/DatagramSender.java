package pagepool.api.datagram;

import java.net.InetSocketAddress;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Sends verifiable UDP traffic, to test a receiver: datagrams carrying a sequence number and a
 * checksum of their payload, so a receiver can tell a datagram intact, corrupt, or not from this
 * sender (unverifiable). Batched with {@code sendmmsg}.
 */
@ProviderType
public interface DatagramSender {

    /**
     * Sends {@code count} datagrams of {@code size} bytes to {@code target}, at {@code ratePps}
     * per second (0: as fast as the kernel takes them), and returns when done.
     *
     * @throws IllegalArgumentException for a size outside 64..65507, a negative count or rate
     */
    SendReport send(InetSocketAddress target, int size, long count, long ratePps);

    /**
     * What a {@link #send} did.
     *
     * @param sent datagrams the kernel accepted
     * @param failed datagrams it refused (counted, not retried)
     * @param nanos how long it took
     */
    record SendReport(long sent, long failed, long nanos) {
        public double perSecond() {
            return nanos == 0 ? 0 : sent * 1e9 / nanos;
        }
    }
}

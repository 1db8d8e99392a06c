package pagepool.driver.xdp;

/**
 * An AF_XDP queue's counters, in the order {@code pp:devstats} shows them, counted by the queue's
 * thread and published once per batch.
 *
 * <ul>
 * <li>{@code packets}, {@code bytes}: UDP datagrams received (bytes of payload); {@code drops}:
 * frames for the device's ports the kernel could not give the queue (its {@code XDP_STATISTICS}
 * {@code rx_dropped} and {@code rx_ring_full}, and the program's count of frames that found the
 * queue without a socket), filled in when read;</li>
 * <li>{@code verified}, {@code corrupt}, {@code unverifiable}: with no consumer, what the driver's
 * own check of the payload found; {@code malformed}: frames the program steered whose headers do
 * not hold together (recycled, not delivered);</li>
 * <li>{@code delivered}, {@code consumer-errors}, {@code kept}: what consumers did;</li>
 * <li>{@code alloc-fail} (the pool gave fewer pages than the fill ring had room for),
 * {@code outside-umem} (a page the provider gave outside the queue's UMEM: given back, never
 * posted), {@code errors}, {@code restarts}, {@code polls} (rounds that found frames),
 * {@code wakeups} (system calls the kernel asked for before it looked at the fill ring again),
 * {@code bind-retries} (binds that found the queue still held by the socket closed just before).</li>
 * </ul>
 */
enum XdpCounter {
    PACKETS, BYTES, DROPS, VERIFIED, CORRUPT, UNVERIFIABLE, MALFORMED, DELIVERED, CONSUMER_ERRORS, KEPT, ALLOC_FAIL,
    OUTSIDE_UMEM, ERRORS, RESTARTS, POLLS, WAKEUPS, BIND_RETRIES
}

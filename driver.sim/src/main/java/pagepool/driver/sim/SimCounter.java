package pagepool.driver.sim;

/**
 * A simulated queue's counters, in the order {@code pp:devstats} shows them (the kit's
 * {@code QueueCounters} names each after its constant: {@code DROPS_NO_BUFFER} is
 * {@code drops-no-buffer}). NAPI counts plainly and publishes once per poll; socket threads and
 * token owners count the same counters atomically.
 *
 * <ul>
 * <li>{@code generated}: packets the wire offered the queue; {@code packets}, {@code bytes}: those
 * delivered to a consumer;</li>
 * <li>{@code drops}: the sum of the four below, filled in when read: {@code drops-no-buffer} (an
 * empty RX ring, or no header buffer), {@code drops-stopped} (the queue was stopped),
 * {@code drops-backlog} (a full socket backlog), {@code drops-failed} (the queue or its device
 * memory failed);</li>
 * <li>{@code backpressure}: times a full socket made the sender hold back (the packets stayed on
 * the wire); {@code errors}; {@code alloc-fail}: ring refills the pool could not serve;
 * {@code restarts};</li>
 * <li>{@code verified}, {@code corrupt}: delivered packets whose every byte was checked, and those
 * that were not what the wire sent; {@code devmem-frags}: device-memory frags handed to
 * applications, {@code tokens-out}: of those, the ones still held.</li>
 * </ul>
 * {@code pp:devstats} adds {@code rx-posted} (buffers on the RX ring now) and the IOTLB's lookups and misses.
 */
enum SimCounter {
    GENERATED, PACKETS, BYTES, DROPS, DROPS_NO_BUFFER, DROPS_STOPPED, DROPS_BACKLOG, DROPS_FAILED, BACKPRESSURE,
    ERRORS, ALLOC_FAIL, RESTARTS, VERIFIED, CORRUPT, DEVMEM_FRAGS, TOKENS_OUT
}

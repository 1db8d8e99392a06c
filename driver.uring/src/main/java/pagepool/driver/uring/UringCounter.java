package pagepool.driver.uring;

/**
 * A UDP queue's counters, in the order {@code pp:devstats} shows them (the kit's
 * {@code QueueCounters} names each after its constant), counted by the queue's thread and
 * published once per batch of completions.
 *
 * <ul>
 * <li>{@code packets}, {@code bytes}: datagrams received; {@code drops}: the kernel's drops for the
 * queue's socket, filled in when read;</li>
 * <li>{@code verified}, {@code corrupt}, {@code unverifiable}: with no consumer, what the driver's
 * own check found; {@code truncated}: larger than a buffer;</li>
 * <li>{@code delivered}, {@code consumer-errors}, {@code kept}: what consumers did;</li>
 * <li>{@code no-buffer} (the ring ran dry), {@code alloc-fail}, {@code receive-errors},
 * {@code errors}, {@code restarts}, {@code rearms}, {@code polls} (wakes that found completions),
 * {@code gro-buffers}, {@code cq-overflow} (completions the kernel dropped for a full completion
 * queue), {@code moderation-usecs} (the wait for a batch now, fixed or as the adaptive policy
 * chose it).</li>
 * </ul>
 */
enum UringCounter {
    PACKETS, BYTES, DROPS, VERIFIED, CORRUPT, UNVERIFIABLE, TRUNCATED, DELIVERED, CONSUMER_ERRORS, KEPT, NO_BUFFER,
    ALLOC_FAIL, RECEIVE_ERRORS, ERRORS, RESTARTS, REARMS, POLLS, GRO_BUFFERS, CQ_OVERFLOW, MODERATION_USECS
}

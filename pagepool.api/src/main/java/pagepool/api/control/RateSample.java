package pagepool.api.control;

import java.time.Instant;
import java.util.List;

/**
 * One sample of every queue's traffic, taken by the runtime each second; it keeps five minutes and
 * more of them, so a page opened now draws the last minutes at once.
 *
 * @param seq the sample's number, from 1, one more each second
 * @param time when it was taken
 * @param queues the queues' rates since the sample before
 */
public record RateSample(long seq, Instant time, List<QueueRate> queues) {

    public RateSample {
        queues = List.copyOf(queues);
    }
}

package pagepool.api.control;

import java.util.Map;

import pagepool.api.QueueId;

/**
 * A queue's driver counters ({@code ethtool -S}).
 *
 * @param queue the queue
 * @param counters by the driver's names, in its order
 * @param error why the driver gave none, or empty
 */
public record QueueCounters(QueueId queue, Map<String, Long> counters, String error) {

    public QueueCounters {
        counters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(counters));
    }
}

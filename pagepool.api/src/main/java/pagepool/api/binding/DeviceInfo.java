package pagepool.api.binding;

/**
 * A network device known to the engine.
 *
 * @param name device name
 * @param rxQueues number of RX queues
 * @param headerSplit whether the NIC splits headers from payload
 * @param up whether it is administratively up as the engine applied it: when down, its queues
 *        are stopped and it has no active pool
 */
public record DeviceInfo(String name, int rxQueues, boolean headerSplit, boolean up) {
}

package pagepool.api.binding;

/**
 * A network device known to the engine.
 *
 * @param name device name
 * @param rxQueues number of RX queues
 * @param headerSplit whether the NIC splits headers from payload
 */
public record DeviceInfo(String name, int rxQueues, boolean headerSplit) {
}

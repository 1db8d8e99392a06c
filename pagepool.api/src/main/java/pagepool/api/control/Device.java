package pagepool.api.control;

import java.util.Map;

/**
 * A network device as an operator sees it ({@code ip link}): the engine's view, what the driver
 * says, and whether its configuration was refused.
 *
 * @param name device name; for a refused configuration of a device not present, the name it gave
 * @param rxQueues RX queues, or 0 when not present
 * @param headerSplit whether the NIC splits headers from payload
 * @param up administratively up, as the engine applied it
 * @param carrier whether traffic arrives (the driver's answer; false when it failed to answer)
 * @param details the driver's details (e.g. {@code address}, {@code napi-threads}); a failed
 *        answer is said under {@code error}
 * @param config {@code applied}, or {@code refused} with the reason in {@code message}
 * @param message the refusal's source and reason, or empty
 */
public record Device(String name, int rxQueues, boolean headerSplit, boolean up, boolean carrier,
        Map<String, String> details, String config, String message) {

    public Device {
        details = Map.copyOf(details);
    }
}

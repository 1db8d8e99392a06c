package pagepool.api;

import java.util.Objects;

/**
 * An RX queue of a network device: the unit a memory provider is bound to.
 *
 * @param device the device name, e.g. {@code sim0}
 * @param index the queue index, 0 to the device's queue count - 1
 */
public record QueueId(String device, int index) {

    public QueueId {
        Objects.requireNonNull(device, "device");
        Checks.notBlank("device", device, "a device name");
        Checks.atLeast("queue index", index, 0);
    }

    @Override
    public String toString() {
        return device + "/" + index;
    }
}

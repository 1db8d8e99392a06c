package pagepool.engine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import pagepool.api.Checks;
import pagepool.api.QueueId;
import pagepool.api.queue.NetDevice;

/**
 * The registered devices by name, the ones waiting for their name (a replacement bound before its
 * predecessor is unbound), and the state of every queue. A name belongs to the bundle whose device
 * holds it: only a device of that bundle may wait for it, so a device of another bundle cannot
 * take a name over when the holder is rebuilt. Changed on the engine thread; read from anywhere.
 */
final class Devices {

    private final Map<String, Device> byName = new ConcurrentHashMap<>();
    /** Devices whose name is taken by another, in arrival order; engine thread only. */
    private final List<Device> waiting = new ArrayList<>();
    private final Map<QueueId, QueueState> queues = new ConcurrentHashMap<>();

    /**
     * Registers a device, or queues it behind the one with its name if both are of one bundle.
     *
     * @return null if it is registered, "" if it waits, else why it is refused
     */
    String add(Device d) {
        Device holder = byName.putIfAbsent(d.name, d);
        if (holder == null) {
            return null;
        }
        if (holder.bundleId != d.bundleId) {
            return "network device '" + d.name + "' of bundle " + d.bundleId + " is not taken: the name belongs to a"
                    + " device of bundle " + holder.bundleId + " (expected: a name no other bundle's device has)";
        }
        waiting.add(d);
        return "";
    }

    /**
     * Forgets a device and its queues' state.
     *
     * @return the device waiting for its name, registered now in its place, or null
     */
    Device remove(NetDevice dev) {
        if (waiting.removeIf(w -> w.dev == dev)) {
            return null;
        }
        Device d = null;
        for (Device x : byName.values()) {
            if (x.dev == dev) {
                d = x;
            }
        }
        if (d == null || !byName.remove(d.name, d)) {
            return null;
        }
        d.gone = true;
        String name = d.name;
        queues.keySet().removeIf(q -> q.device().equals(name));
        for (Device w : waiting) {
            if (w.name.equals(name)) {
                waiting.remove(w);
                byName.put(name, w);
                return w;
            }
        }
        return null;
    }

    /** The device of that name, or null. */
    Device get(String name) {
        return byName.get(name);
    }

    /** @throws IllegalArgumentException naming the devices there are, if none has that name */
    Device require(String name) {
        Checks.notBlank("device", name, "a device name");
        Device d = byName.get(name);
        if (d == null) {
            throw Checks.invalid("device", "'" + name + "' is unknown", "one of " + names());
        }
        return d;
    }

    boolean contains(String name) {
        return byName.containsKey(name);
    }

    Collection<Device> all() {
        return byName.values();
    }

    List<String> names() {
        return byName.keySet().stream().sorted().toList();
    }

    /** A queue's state, or null if the engine has not seen it yet. */
    QueueState queue(QueueId q) {
        return queues.get(q);
    }

    /** Queue {@code index} of {@code d}, created on first use. */
    QueueState queue(Device d, int index) {
        return queues.computeIfAbsent(new QueueId(d.name, index), QueueState::new);
    }

    Collection<QueueState> queues() {
        return queues.values();
    }
}

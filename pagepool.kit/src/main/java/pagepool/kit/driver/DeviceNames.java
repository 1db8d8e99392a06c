package pagepool.kit.driver;

import java.util.HashMap;
import java.util.Map;

/**
 * The device names a driver bundle's configurations have taken, so that a second configuration
 * naming an existing device is refused instead of running hidden beside it. One per bundle: a
 * driver registers a subclass as a DS component and hands it to each {@link DeviceConfig}.
 */
public class DeviceNames {

    private record Holder(String pid, String source) {
    }

    private final Map<String, Holder> holders = new HashMap<>();

    /**
     * Takes a name for a configuration (again, if it has it already).
     *
     * @return null when taken, else where the configuration that holds it comes from
     */
    public synchronized String claim(String name, String pid, String source) {
        Holder h = holders.get(name);
        if (h != null && !h.pid().equals(pid)) {
            return h.source();
        }
        holders.put(name, new Holder(pid, source));
        return null;
    }

    public synchronized void release(String name, String pid) {
        Holder h = holders.get(name);
        if (h != null && h.pid().equals(pid)) {
            holders.remove(name);
        }
    }
}

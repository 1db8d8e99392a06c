package pagepool.driver.sim;

import java.util.HashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

/**
 * The device names the simulated devices of this bundle have taken, so a second configuration
 * naming an existing device is refused instead of running hidden beside it.
 */
@Component(service = SimDeviceNames.class)
public final class SimDeviceNames {

    private record Holder(String pid, String source) {
    }

    private final Map<String, Holder> holders = new HashMap<>();

    /**
     * Takes a name for a configuration (again, if it has it already).
     *
     * @return null when taken, else where the configuration that holds it comes from
     */
    synchronized String claim(String name, String pid, String source) {
        Holder h = holders.get(name);
        if (h != null && !h.pid().equals(pid)) {
            return h.source();
        }
        holders.put(name, new Holder(pid, source));
        return null;
    }

    synchronized void release(String name, String pid) {
        Holder h = holders.get(name);
        if (h != null && h.pid().equals(pid)) {
            holders.remove(name);
        }
    }
}

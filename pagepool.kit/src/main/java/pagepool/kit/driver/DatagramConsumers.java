package pagepool.kit.driver;

import java.util.Map;
import java.util.TreeMap;

import org.osgi.framework.ServiceReference;

import pagepool.api.datagram.DatagramConsumer;

/**
 * The {@link DatagramConsumer} services a driver's component tracks, and which of them a device's
 * datagrams go to: the best-ranked (highest ranking, then oldest) whose
 * {@link DatagramConsumer#DEVICE} is the device's name or unset. A replaced consumer may be bound
 * before the old one is unbound: both are held meanwhile.
 */
public final class DatagramConsumers {

    private final TreeMap<ServiceReference<DatagramConsumer>, DatagramConsumer> all = new TreeMap<>();

    public synchronized void add(ServiceReference<DatagramConsumer> ref, DatagramConsumer c) {
        all.put(ref, c);
    }

    public synchronized void remove(ServiceReference<DatagramConsumer> ref) {
        all.remove(ref);
    }

    /** The consumer for the device named, or null: it then verifies its datagrams itself. */
    public synchronized DatagramConsumer best(String device) {
        for (Map.Entry<ServiceReference<DatagramConsumer>, DatagramConsumer> e : all.descendingMap().entrySet()) {
            Object want = e.getKey().getProperty(DatagramConsumer.DEVICE);
            if (want == null || want.equals(device)) {
                return e.getValue();
            }
        }
        return null;
    }
}

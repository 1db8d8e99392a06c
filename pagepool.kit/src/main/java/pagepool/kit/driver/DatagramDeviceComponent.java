package pagepool.kit.driver;

import java.lang.annotation.Annotation;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import pagepool.api.PagePoolFactory;
import pagepool.api.datagram.DatagramConsumer;
import pagepool.api.queue.NetDevice;

/**
 * A {@link DeviceComponent} whose device delivers datagrams: it tracks the
 * {@link DatagramConsumer} services ({@link DatagramConsumers}) and gives the device the best one
 * for it, now and whenever they change. The reference is declared here (the driver's bnd.bnd sets
 * {@code -dsannotations-options: inherit}); a driver's {@code build} ends with
 * {@link #withConsumer}.
 */
public abstract class DatagramDeviceComponent<C extends Annotation, S extends DeviceConfig.Settings,
        D extends NetDevice & AutoCloseable & DatagramDeviceComponent.Receiver> extends DeviceComponent<C, S, D> {

    /** A device that hands datagrams to a consumer. */
    public interface Receiver {
        /** Sets the application datagrams go to; null: the device verifies them itself. */
        void consumer(DatagramConsumer c);
    }

    private final DatagramConsumers consumers = new DatagramConsumers();

    protected DatagramDeviceComponent(Class<C> type, Map<String, Object> props, BundleContext context,
            PagePoolFactory pools, DeviceNames names) {
        super(type, props, context, pools, names);
    }

    // A replaced consumer may be bound before the old one is unbound: both are held meanwhile.
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    protected final void addConsumer(DatagramConsumer c, ServiceReference<DatagramConsumer> ref) {
        consumers.add(ref, c);
        withConsumer(device());
    }

    protected final void removeConsumer(DatagramConsumer c, ServiceReference<DatagramConsumer> ref) {
        consumers.remove(ref);
        withConsumer(device());
    }

    /** Gives {@code d} (if any) the best consumer for it; returns it. */
    protected final D withConsumer(D d) {
        if (d != null) {
            d.consumer(consumers.best(d.name()));
        }
        return d;
    }
}

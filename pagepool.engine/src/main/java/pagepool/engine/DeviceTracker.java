package pagepool.engine;

import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import pagepool.api.queue.NetDevice;

/**
 * Hands network devices to the engine as they come and go, with the bundle that registered
 * each (only it may create pools for the device's queues). A separate component from
 * {@link EngineComponent} because devices depend on the engine's factory: tracking them from the
 * engine's own component would be a circular service dependency.
 */
@Component(service = {}, immediate = true)
public final class DeviceTracker {

    private final Engine engine;

    @Activate
    public DeviceTracker(@Reference EngineComponent engine) {
        this.engine = engine.engine();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindDevice(NetDevice device, ServiceReference<NetDevice> ref) {
        engine.addDevice(device, Device.bundleId(ref.getBundle()));
    }

    void unbindDevice(NetDevice device) {
        engine.removeDevice(device);
    }
}

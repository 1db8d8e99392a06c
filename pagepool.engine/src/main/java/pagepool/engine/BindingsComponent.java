package pagepool.engine;

import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ServiceScope;

import pagepool.api.PoolInfo;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.DeviceInfo;
import pagepool.api.binding.PoolBindings;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;

/**
 * {@link PoolBindings} for one using bundle (bundle scope): the bindings it makes are owned by
 * that bundle, only it may remove them, and they go when it stops using the service, so a bundle
 * that goes away takes its bindings with it and its queues return to the default provider.
 */
@Component(service = PoolBindings.class, scope = ServiceScope.BUNDLE)
public final class BindingsComponent implements PoolBindings {

    private final Multiplexer mux;
    private final String owner;
    private final long bundle;

    @Activate
    public BindingsComponent(@Reference EngineComponent engine, ComponentContext context) {
        this.mux = engine.multiplexer();
        Bundle user = context.getUsingBundle();
        this.bundle = PoolFactoryComponent.bundleId(user);
        this.owner = "bundle:" + (user == null ? "?" : user.getSymbolicName() + "#" + user.getBundleId());
    }

    @Deactivate
    void deactivate() {
        mux.unbindOwner(owner);
    }

    @Override
    public BindingInfo bind(String device, List<Integer> queues, String provider) {
        return bind(device, queues, provider, "");
    }

    @Override
    public BindingInfo bind(String device, List<Integer> queues, String provider, String origin) {
        return mux.bind(device, queues, provider, owner, bundle, origin, true);
    }

    @Override
    public List<BindingInfo> unbind(String device, List<Integer> queues) {
        return mux.unbind(device, queues, owner);
    }

    @Override
    public boolean unbind(long bindingId) {
        return mux.unbind(bindingId, owner);
    }

    @Override
    public QueueInfo restartQueue(String device, int queue) {
        return mux.restartQueue(device, queue);
    }

    @Override
    public ProviderInfo resetProvider(String provider) {
        return mux.resetProvider(provider);
    }

    @Override
    public List<BindingInfo> bindings() {
        return mux.bindings();
    }

    @Override
    public List<DeviceInfo> devices() {
        return mux.devices();
    }

    @Override
    public List<QueueInfo> queues() {
        return mux.queues();
    }

    @Override
    public List<ProviderInfo> providers() {
        return mux.providers();
    }

    @Override
    public List<PoolInfo> pools() {
        return mux.pools();
    }
}

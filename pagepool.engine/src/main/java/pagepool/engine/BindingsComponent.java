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
import pagepool.api.binding.Change;
import pagepool.api.binding.DeviceInfo;
import pagepool.api.binding.PoolBindings;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.binding.RestartLatency;

/**
 * {@link PoolBindings} for one using bundle (bundle scope): the bindings it makes are owned by
 * that bundle, only it may remove them, and they go when it stops using the service, so a bundle
 * that goes away takes its bindings with it and its queues return to the default provider.
 */
@Component(service = PoolBindings.class, scope = ServiceScope.BUNDLE)
public final class BindingsComponent implements PoolBindings {

    private final Engine engine;
    private final String owner;
    private final long bundle;

    @Activate
    public BindingsComponent(@Reference EngineComponent engine, ComponentContext context) {
        this(engine.engine(), owner(context.getUsingBundle()), Device.bundleId(context.getUsingBundle()));
    }

    /** The bindings service of one owner outside a framework ({@link StandaloneEngine}). */
    BindingsComponent(Engine engine, String owner, long bundle) {
        this.engine = engine;
        this.owner = owner;
        this.bundle = bundle;
    }

    private static String owner(Bundle user) {
        return "bundle:" + (user == null ? "?" : user.getSymbolicName() + "#" + user.getBundleId());
    }

    @Deactivate
    void deactivate() {
        engine.unbindOwner(owner);
    }

    @Override
    public BindingInfo bind(String device, List<Integer> queues, String provider) {
        return bind(device, queues, provider, "");
    }

    @Override
    public BindingInfo bind(String device, List<Integer> queues, String provider, String origin) {
        return engine.bind(device, queues, provider, owner, bundle, origin, true);
    }

    @Override
    public BindingInfo bind(String device, List<Integer> queues, pagepool.api.provider.MemoryProvider provider,
            String origin) {
        return engine.bind(device, queues, provider, owner, bundle, origin);
    }

    @Override
    public List<BindingInfo> unbind(String device, List<Integer> queues) {
        return engine.unbind(device, queues, owner);
    }

    @Override
    public boolean unbind(long bindingId) {
        return engine.unbind(bindingId, owner);
    }

    @Override
    public QueueInfo restartQueue(String device, int queue) {
        return engine.restartQueue(device, queue);
    }

    @Override
    public ProviderInfo resetProvider(String provider) {
        return engine.resetProvider(provider);
    }

    @Override
    public List<BindingInfo> bindings() {
        return engine.bindings();
    }

    @Override
    public RestartLatency restartLatency() {
        return engine.restartLatency();
    }

    @Override
    public List<DeviceInfo> devices() {
        return engine.devices();
    }

    @Override
    public List<QueueInfo> queues() {
        return engine.queues();
    }

    @Override
    public List<ProviderInfo> providers() {
        return engine.providers();
    }

    @Override
    public List<PoolInfo> pools() {
        return engine.pools();
    }

    @Override
    public Change.Subscription subscribe(java.util.function.Consumer<Change> listener) {
        return engine.changes.subscribe(listener);
    }
}

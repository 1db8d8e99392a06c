package pagepool.engine;

import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.PagePool;
import pagepool.api.PagePoolFactory;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.provider.MemoryProvider;

/**
 * The engine: the {@link PagePoolFactory} drivers use, and the multiplexer that tracks memory
 * providers. Devices are tracked by {@link DeviceTracker}: a device needs the factory to start,
 * so the factory must not need devices. The bundle's other components reach it as this class,
 * which no other bundle can see.
 *
 * <p>References are dynamic, multiple and greedy: a provider replaced by a better one is bound
 * before the old one is unbound, and both sit side by side (keyed by service id) until then.
 */
@Component(service = {PagePoolFactory.class, EngineComponent.class}, configurationPid = "pagepool.engine",
        immediate = true)
@Designate(ocd = EngineComponent.Config.class)
public final class EngineComponent implements PagePoolFactory {

    @ObjectClassDefinition(name = "pagepool engine", description = "Page pool lifecycle settings")
    public @interface Config {
        @AttributeDefinition(description = "How often a detached pool's ring is drained, in ms")
        long retry_millis() default 100;

        @AttributeDefinition(description = "How long a detached pool may wait for its pages before it is reported as stalled, in ms")
        long stall_millis() default 60_000;
    }

    private final PoolEngine engine;
    private final Multiplexer mux;
    private final PagePoolFactory factory;

    @Activate
    public EngineComponent(Config config) {
        this.engine = new PoolEngine(config.retry_millis(), config.stall_millis());
        this.mux = new Multiplexer(engine);
        this.factory = new MultiplexedPoolFactory(engine, mux);
    }

    @Deactivate
    void deactivate() {
        mux.close();
        engine.close();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindProvider(MemoryProvider provider, Map<String, Object> props) {
        mux.addProvider(provider, props);
    }

    void unbindProvider(MemoryProvider provider, Map<String, Object> props) {
        mux.removeProvider(provider, props);
    }

    Multiplexer multiplexer() {
        return mux;
    }

    @Override
    public PagePool create(PoolParams params) {
        return factory.create(params);
    }

    @Override
    public List<PoolInfo> pools() {
        return factory.pools();
    }
}

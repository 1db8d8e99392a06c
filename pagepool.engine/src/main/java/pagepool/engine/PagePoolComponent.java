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
 * The {@link PagePoolFactory} service: pools for drivers, on the default memory provider.
 * Providers come and go as services; the factory tracks them all.
 */
@Component(service = PagePoolFactory.class, configurationPid = "pagepool.engine")
@Designate(ocd = PagePoolComponent.Config.class)
public final class PagePoolComponent implements PagePoolFactory {

    @ObjectClassDefinition(name = "pagepool engine", description = "Page pool lifecycle settings")
    public @interface Config {
        @AttributeDefinition(description = "How often a detached pool's ring is drained, in ms")
        long retry_millis() default 100;

        @AttributeDefinition(description = "How long a detached pool may wait for its pages before it is reported as stalled, in ms")
        long stall_millis() default 60_000;
    }

    private final PoolEngine engine;
    private final ProviderRegistry providers = new ProviderRegistry();

    @Activate
    public PagePoolComponent(Config config) {
        this.engine = new PoolEngine(config.retry_millis(), config.stall_millis());
    }

    @Deactivate
    void deactivate() {
        engine.close();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindProvider(MemoryProvider provider, Map<String, Object> props) {
        providers.add(provider, props);
    }

    void unbindProvider(MemoryProvider provider, Map<String, Object> props) {
        providers.remove(props);
    }

    @Override
    public PagePool create(PoolParams params) {
        MemoryProvider provider = providers.defaultProvider();
        if (provider == null) {
            throw new IllegalStateException("no memory provider for " + (params.queue() == null ? "the pool"
                    : "queue " + params.queue()) + " (expected: a MemoryProvider service with "
                    + MemoryProvider.DEFAULT + "=true, such as provider.heap)");
        }
        return engine.create(params, provider);
    }

    @Override
    public List<PoolInfo> pools() {
        return engine.pools();
    }
}

package pagepool.engine;

import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.kit.config.ConfigReport;
import pagepool.kit.config.ConfigValues;
import pagepool.api.provider.MemoryProvider;

/**
 * The engine's OSGi face: its configuration, and the memory-provider services it tracks. The
 * bundle's other components reach the {@link Engine} through this class, which no other bundle
 * can see: the bundle-scoped {@link PoolFactory} drivers use, {@link DeviceTracker}, the binding
 * service and the configured bindings.
 *
 * <p>Provider references are dynamic, multiple and greedy: a provider replaced by a better one is
 * bound before the old one is unbound, and both sit side by side (keyed by service id) until then.
 * A configuration that cannot apply is refused (one line, and a {@code ConfigProblem} service)
 * and the engine keeps running on its last good settings: traffic never stops for a typo.
 */
@Component(service = EngineComponent.class, configurationPid = "pagepool.engine", immediate = true)
@Designate(ocd = EngineComponent.Config.class)
public final class EngineComponent {

    @ObjectClassDefinition(name = "pagepool engine", description = "Page pool lifecycle and fault settings")
    public @interface Config {
        @AttributeDefinition(description = "How often a detached pool's ring is drained, in ms")
        long retry_millis() default 100;

        @AttributeDefinition(description = "How long a detached pool may wait for its pages before it is reported as stalled, in ms")
        long stall_millis() default 60_000;

        @AttributeDefinition(description = "Faults after which a memory provider is quarantined")
        int fault_limit() default 3;

        @AttributeDefinition(description = "How often drivers are asked whether a queue failed, in ms")
        long health_millis() default 100;

        @AttributeDefinition(description = "How long a queue's memory allocation (the provider's init and first"
                + " pages), and each of its driver's queue operations, may take before the engine goes on without it"
                + " (and charges the provider if it was the one still busy), in ms")
        long alloc_budget_millis() default 5_000;

        @AttributeDefinition(description = "Bytes of pages all devices' rings may commit together; a device"
                + " configuration that does not fit is refused")
        long memory_budget_bytes() default MemoryBudget.DEFAULT_BYTES;
    }

    /** Checked settings. */
    private record Settings(long retryMillis, long stallMillis, int faultLimit, long healthMillis,
            long allocBudgetMillis, long memoryBudgetBytes) {
        @Override
        public String toString() {
            return "retry.millis=" + retryMillis + ", stall.millis=" + stallMillis + ", fault.limit=" + faultLimit
                    + ", health.millis=" + healthMillis + ", alloc.budget.millis=" + allocBudgetMillis
                    + ", memory.budget.bytes=" + memoryBudgetBytes;
        }
    }

    private final Engine engine;
    private final ConfigReport report;
    private final Map<String, ConfigReport> refused = new java.util.concurrent.ConcurrentHashMap<>();
    private Settings settings;

    @Activate
    public EngineComponent(Config config, Map<String, Object> props, BundleContext context) {
        this.report = new ConfigReport(context);
        Settings s = check(config, props, "the engine runs with its defaults");
        this.settings = s != null ? s : check(ConfigValues.defaults(Config.class), Map.of(), "");
        this.engine = new Engine(settings.retryMillis(), settings.stallMillis());
        engine.configure(settings.faultLimit(), settings.healthMillis());
        engine.allocBudget(settings.allocBudgetMillis());
        engine.memory.budget(settings.memoryBudgetBytes());
        // Devices and providers the engine does not take are listed by pp:problems while they stay.
        engine.refusals = (subject, message) -> {
            if (message == null) {
                ConfigReport r = refused.remove(subject);
                if (r != null) {
                    r.close();
                }
            } else {
                refused.computeIfAbsent(subject, k -> new ConfigReport(context)).refuse("engine", subject, message);
            }
        };
    }

    /** New settings apply in place: nothing restarts. */
    @Modified
    void modified(Config config, Map<String, Object> props) {
        Settings s = check(config, props, "the engine keeps its settings (" + settings + ")");
        if (s != null) {
            engine.pools.setTimes(s.retryMillis(), s.stallMillis());
            engine.configure(s.faultLimit(), s.healthMillis());
            engine.allocBudget(s.allocBudgetMillis());
            engine.memory.budget(s.memoryBudgetBytes());
            settings = s;
        }
    }

    /** The settings, or null after reporting why they are refused. */
    private Settings check(Config c, Map<String, Object> props, String otherwise) {
        ConfigValues v = new ConfigValues(props);
        v.noUnknownKeys(Config.class);
        Settings s = new Settings(v.integer("retry.millis", c::retry_millis, 1, 60_000),
                v.integer("stall.millis", c::stall_millis, 0, Long.MAX_VALUE),
                v.integer("fault.limit", c::fault_limit, 1, 1_000_000),
                v.integer("health.millis", c::health_millis, 1, 60_000),
                v.integer("alloc.budget.millis", c::alloc_budget_millis, 10, 600_000),
                v.integer("memory.budget.bytes", c::memory_budget_bytes, 0, Long.MAX_VALUE));
        if (!v.ok()) {
            report.refuse(v.source(), "engine", v.message() + "; " + otherwise);
            return null;
        }
        report.clear();
        return s;
    }

    @Deactivate
    void deactivate() {
        engine.close();
        report.close();
        refused.values().forEach(ConfigReport::close);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindProvider(MemoryProvider provider, ServiceReference<MemoryProvider> ref, Map<String, Object> props) {
        engine.addProvider(provider, props, Device.bundleId(ref.getBundle()));
    }

    void unbindProvider(MemoryProvider provider, Map<String, Object> props) {
        engine.removeProvider(props);
    }

    Engine engine() {
        return engine;
    }
}

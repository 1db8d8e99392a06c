package pagepool.engine;

import java.util.Map;

import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.kit.config.ConfigValues;

/**
 * One binding from Config Admin: a factory configuration of {@value #PID} (e.g. a file
 * {@code pagepool.binding-fast.cfg} in the runtime's watched folder) with {@code device},
 * {@code queues} ("1,2" or "0-3") and {@code provider}. Editing it changes the binding in place
 * (only queues whose provider changes restart); deleting it unbinds. A malformed configuration
 * binds nothing and is listed as a failed binding with its reason; one naming a queue another
 * binding holds waits until that one goes.
 */
@Component(configurationPid = ConfiguredBinding.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
@Designate(ocd = ConfiguredBinding.Config.class, factory = true)
public final class ConfiguredBinding {

    static final String PID = "pagepool.binding";

    @ObjectClassDefinition(name = "pagepool queue binding", description = "Binds RX queues of a device to a memory provider")
    public @interface Config {
        @AttributeDefinition(description = "Device name, e.g. sim0")
        String device();

        @AttributeDefinition(description = "Queue indexes: a list like 1,2 or a range like 0-3")
        String queues();

        @AttributeDefinition(description = "Provider name, e.g. hugepage")
        String provider();
    }

    private final Engine engine;
    private final String owner;

    @Activate
    public ConfiguredBinding(@Reference EngineComponent engine, Config config, Map<String, Object> props) {
        this.engine = engine.engine();
        this.owner = "config:" + props.get(Constants.SERVICE_PID);
        apply(config, props);
    }

    @Modified
    void modified(Config config, Map<String, Object> props) {
        apply(config, props);
    }

    @Deactivate
    void deactivate() {
        engine.unbindOwner(owner);
    }

    private void apply(Config config, Map<String, Object> props) {
        String source = ConfigValues.sourceOf(props);
        String origin = props.containsKey(ConfigValues.FILE) ? "file " + source : "";
        ConfigValues v = new ConfigValues(props);
        v.noUnknownKeys(Config.class); // queuez=2 beside queues=1 binds nothing: the file says something else
        engine.configure(owner, origin, text(config::device), text(config::queues), text(config::provider),
                v.ok() ? null : v.message());
    }

    /** A value as written, or empty when missing. */
    private static String text(java.util.function.Supplier<String> value) {
        try {
            String v = value.get();
            return v == null ? "" : v;
        } catch (RuntimeException e) {
            return "";
        }
    }
}

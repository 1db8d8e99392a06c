package pagepool.engine;

import java.lang.System.Logger.Level;
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

import pagepool.api.binding.QueueList;

/**
 * One binding from Config Admin: a factory configuration of {@value #PID} (e.g. a file
 * {@code pagepool.binding-fast.cfg} in the runtime's watched folder) with {@code device},
 * {@code queues} ("1,2" or "0-3") and {@code provider}. Updating it rebinds; deleting it unbinds.
 * A malformed configuration binds nothing and is reported in the log and in the bindings list.
 */
@Component(configurationPid = ConfiguredBinding.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
@Designate(ocd = ConfiguredBinding.Config.class, factory = true)
public final class ConfiguredBinding {

    static final String PID = "pagepool.binding";
    private static final System.Logger LOG = System.getLogger(ConfiguredBinding.class.getName());

    @ObjectClassDefinition(name = "pagepool queue binding", description = "Binds RX queues of a device to a memory provider")
    public @interface Config {
        @AttributeDefinition(description = "Device name, e.g. sim0")
        String device();

        @AttributeDefinition(description = "Queue indexes: a list like 1,2 or a range like 0-3")
        String queues();

        @AttributeDefinition(description = "Provider name, e.g. hugepage")
        String provider();
    }

    private final Multiplexer mux;
    private final String owner;

    @Activate
    public ConfiguredBinding(@Reference EngineComponent engine, Config config, Map<String, Object> props) {
        this.mux = engine.multiplexer();
        this.owner = "config:" + props.get(Constants.SERVICE_PID);
        apply(config);
    }

    @Modified
    void modified(Config config) {
        mux.unbindOwner(owner);
        apply(config);
    }

    @Deactivate
    void deactivate() {
        mux.unbindOwner(owner);
    }

    private void apply(Config config) {
        try {
            mux.bind(config.device(), QueueList.parse(config.queues()), config.provider(), owner, false);
        } catch (IllegalArgumentException e) {
            LOG.log(Level.ERROR, "binding {0} rejected: {1}", owner, e.getMessage());
            mux.rejected(owner, config.device(), config.provider(), e.getMessage());
        }
    }
}

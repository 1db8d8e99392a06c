package pagepool.engine;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.osgi.framework.Constants;

import pagepool.api.Checks;
import pagepool.api.PagePool;
import pagepool.api.PagePoolFactory;
import pagepool.api.PoolParams;
import pagepool.api.binding.PoolBindings;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.queue.NetDevice;

/**
 * The engine without a framework, for tests, benchmarks and programs that embed pagepool: the
 * same pools, reconciler, checks and guards the bundle runs, driven by plain calls where the
 * bundle reacts to services. The package is private to the engine bundle (bnd exports nothing);
 * this class is its one public entry for code outside OSGi.
 *
 * <pre>{@code
 * try (StandaloneEngine engine = new StandaloneEngine()) {
 *     engine.addProvider(new HeapMemoryProvider(1L << 30), true);
 *     SimDevice sim = new SimDevice(settings, engine.factory()).open();
 *     engine.addDevice(sim);
 *     engine.bindings().bind("sim0", List.of(0), "hugepage");
 * }
 * }</pre>
 */
public final class StandaloneEngine implements AutoCloseable {

    private final Engine engine;
    private final AtomicLong serviceIds = new AtomicLong();
    private final Map<MemoryProvider, Map<String, Object>> providers = new ConcurrentHashMap<>();
    private final PagePoolFactory factory;
    private final PoolBindings bindings;

    /** The engine itself, for this package's tests. */
    Engine engine() {
        return engine;
    }

    /** Detached pools drained every 100 ms and reported stalled after 60 s, as the bundle's defaults. */
    public StandaloneEngine() {
        this(100, 60_000);
    }

    /**
     * @param retryMillis how often a detached pool's ring is drained
     * @param stallMillis how long a detached pool may wait for its pages before it is reported
     * @throws IllegalArgumentException for a retry under 1 ms or a negative stall time
     */
    public StandaloneEngine(long retryMillis, long stallMillis) {
        this.engine = new Engine(retryMillis, stallMillis);
        this.factory = new PoolFactory(engine, -1);
        this.bindings = new BindingsComponent(engine, "standalone", -1);
    }

    /**
     * @param faultLimit faults after which a provider is quarantined (default 3)
     * @param healthMillis how often drivers are asked whether their queues failed (default 100)
     * @throws IllegalArgumentException for a value under 1
     */
    public void configure(int faultLimit, long healthMillis) {
        engine.configure(faultLimit, healthMillis);
    }

    /** Adds a provider as a service of ranking 0 under its own name; the default one if {@code isDefault}. */
    public void addProvider(MemoryProvider provider, boolean isDefault) {
        addProvider(provider, Map.of(MemoryProvider.DEFAULT, isDefault));
    }

    /**
     * Adds a provider with the service properties a framework would give it ({@link MemoryProvider#NAME},
     * {@link MemoryProvider#DEFAULT}, {@link MemoryProvider#PRIVATE}, {@code service.ranking}).
     *
     * @throws IllegalArgumentException if this provider object was added already
     */
    public void addProvider(MemoryProvider provider, Map<String, Object> properties) {
        Map<String, Object> props = new HashMap<>(properties);
        props.put(Constants.SERVICE_ID, serviceIds.incrementAndGet());
        props.putIfAbsent(Constants.SERVICE_RANKING, 0);
        if (providers.putIfAbsent(provider, props) != null) {
            throw Checks.invalid("provider", provider, "one not added yet");
        }
        engine.addProvider(provider, props, -1);
    }

    /** Removes a provider as its service going away would: its queues move off it. */
    public void removeProvider(MemoryProvider provider) {
        Map<String, Object> props = providers.remove(provider);
        if (props != null) {
            engine.removeProvider(props);
        }
    }

    /** Adds a device; its queues start on the memory they should run on (its driver creates pools with {@link #factory()}). */
    public void addDevice(NetDevice device) {
        engine.addDevice(device, -1);
    }

    public void removeDevice(NetDevice device) {
        engine.removeDevice(device);
    }

    /** The factory for drivers: pools get the provider the engine picks for their queue. */
    public PagePoolFactory factory() {
        return factory;
    }

    /** Bindings, queues, providers, devices and pools as operators see them; bindings made here are owned by "standalone". */
    public PoolBindings bindings() {
        return bindings;
    }

    /** A pool on {@code provider}, outside any queue's control (benchmarks, provider tests); its faults are still guarded. */
    public PagePool createPool(PoolParams params, MemoryProvider provider) {
        return engine.pools.create(params, provider);
    }

    /** Who is told of each queue restart (one listener; it must not block). */
    public void onRestart(Consumer<RestartRecord> listener) {
        engine.onRestart(listener);
    }

    @Override
    public void close() {
        engine.close();
    }
}

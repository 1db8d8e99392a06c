package pagepool.provider.devmem;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.Checks;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.PoolBindings;
import pagepool.kit.config.ConfigReport;
import pagepool.kit.config.ConfigValues;
import pagepool.api.devmem.DevmemBindingInfo;
import pagepool.api.devmem.DmaBufInfo;
import pagepool.api.provider.MemoryProvider;

/**
 * Every buffer and binding of the bundle, whoever made them. A binding registers its own
 * {@link MemoryProvider} service ({@code devmem-<id>}, private to this bundle, so nobody else can
 * bind queues to it) and binds its queues to it through the engine's {@link PoolBindings}, which
 * restarts them onto the buffer. Unbinding reverses both; the buffer is free again when the old
 * pools have given every chunk back. Buffers and bindings are changed only by the bundle that
 * made them.
 *
 * <p>The simulated device has {@code memory.bytes} of memory; each buffer sits at an IOVA of the
 * device's own, in one of {@value #IOVA_SLOTS} windows of {@value #MAX_BUFFER_BYTES} bytes.
 */
@Component(service = DevmemRegistry.class, configurationPid = "pagepool.provider.devmem")
@Designate(ocd = DevmemRegistry.Config.class)
public final class DevmemRegistry {

    private static final System.Logger LOG = System.getLogger(DevmemRegistry.class.getName());
    static final long MAX_BUFFER_BYTES = 1L << 36;
    static final int IOVA_SLOTS = 256;
    /** Where the device's IOVA windows start: inside a 48-bit DMA mask, far from host addresses. */
    static final long IOVA_BASE = 1L << 44;

    @ObjectClassDefinition(name = "pagepool device memory", description = "Simulated device memory (devmem TCP)")
    public @interface Config {
        @AttributeDefinition(description = "Bytes of device memory the simulated device has for buffers")
        long memory_bytes() default 1L << 30;
    }

    /** A binding: its provider, its service, the engine's binding of its queues, and its owner. */
    private record Binding(DevmemProvider provider, ServiceRegistration<MemoryProvider> service, long engineBinding,
            String owner) {
    }

    private final BundleContext context;
    private final PoolBindings pools;
    private final ConfigReport report;
    private final Map<Integer, DmaBuf> buffers = new ConcurrentHashMap<>();
    private final Map<Long, Binding> bindings = new ConcurrentHashMap<>();
    private final Map<Long, DevmemProvider> draining = new ConcurrentHashMap<>();
    /**
     * Guards buffer state (slots, a buffer's binding) for {@link #drained}, which runs on whatever
     * thread gave back the last chunk. Operations serialise on {@code this} and may wait for the
     * engine; they never do so holding this lock, so the engine's threads never wait for them.
     */
    private final Object state = new Object();
    /** IOVA windows in use; guarded by {@link #state}. */
    private final BitSet slots = new BitSet(IOVA_SLOTS);
    private final Map<Integer, Integer> slotOf = new ConcurrentHashMap<>();
    private volatile long memoryBytes;
    private int nextBuffer;
    private long nextBinding;

    @Activate
    public DevmemRegistry(BundleContext context, @Reference PoolBindings pools, Config config,
            Map<String, Object> props) {
        this.context = context;
        this.pools = pools;
        this.report = new ConfigReport(context);
        this.memoryBytes = ConfigValues.defaults(Config.class).memory_bytes();
        modified(config, props);
    }

    /** A new size applies to buffers created from now on; one that cannot apply is refused. */
    @Modified
    void modified(Config config, Map<String, Object> props) {
        ConfigValues v = new ConfigValues(props);
        v.noUnknownKeys(Config.class);
        long bytes = v.integer("memory.bytes", config::memory_bytes, 4096, MAX_BUFFER_BYTES * IOVA_SLOTS);
        if (v.ok() && bytes % 4096 != 0) {
            v.problem("memory.bytes", bytes, "a multiple of 4096");
        }
        if (!v.ok()) {
            report.refuse(v.source(), "provider devmem", v.message() + "; device memory stays " + memoryBytes + " bytes");
            return;
        }
        report.clear();
        memoryBytes = bytes;
    }

    /** The bundle stops: every binding goes, every buffer is freed once its chunks are back. */
    @Deactivate
    void deactivate() {
        for (Binding b : List.copyOf(bindings.values())) {
            unbind(b.provider().bindingId, null);
        }
        for (DmaBuf d : List.copyOf(buffers.values())) {
            destroy(d.id, null);
        }
        report.close();
    }

    synchronized DmaBufInfo create(long size, String owner) {
        synchronized (state) {
            return createLocked(size, owner);
        }
    }

    private DmaBufInfo createLocked(long size, String owner) {
        long used = usedBytes();
        long left = memoryBytes - used;
        if (size <= 0 || size % 4096 != 0 || size > Math.min(left, MAX_BUFFER_BYTES)) {
            throw Checks.invalid("size", size, "a positive multiple of 4096, at most " + Math.min(left, MAX_BUFFER_BYTES)
                    + ": the device has " + memoryBytes + " bytes and " + used + " are in buffers");
        }
        int slot = slots.nextClearBit(0);
        if (slot >= IOVA_SLOTS) {
            throw Checks.invalid("buffers", IOVA_SLOTS + " exist", "fewer; destroy one first");
        }
        int id = nextBuffer + 1;
        DmaBuf d;
        try {
            d = new DmaBuf(id, size, owner, IOVA_BASE + slot * MAX_BUFFER_BYTES);
        } catch (OutOfMemoryError e) {
            throw Checks.invalid("size", size, "a size the host can back with memory; it could not: " + e.getMessage());
        }
        nextBuffer = id;
        slots.set(slot);
        slotOf.put(id, slot);
        buffers.put(id, d);
        return info(d);
    }

    /** Bytes of buffers that exist or still drain. */
    private long usedBytes() {
        long used = 0;
        for (Map.Entry<Integer, Integer> e : slotOf.entrySet()) {
            DmaBuf d = buffers.get(e.getKey());
            used += d != null ? d.size : drainingSize(e.getKey());
        }
        return used;
    }

    private long drainingSize(int buffer) {
        return draining.values().stream().filter(p -> p.buffer.id == buffer).mapToLong(p -> p.buffer.size).sum();
    }

    synchronized DevmemBindingInfo bind(int buffer, String device, List<Integer> queues, String owner) {
        DmaBuf d = buffers.get(buffer);
        if (d == null) {
            throw Checks.invalid("buffer", buffer + " is unknown", "one of " + buffers.keySet().stream().sorted().toList());
        }
        checkOwner(d.owner, owner, "buffer " + buffer);
        synchronized (state) {
            if (d.binding != 0) {
                throw new IllegalArgumentException("buffer " + buffer + " is already bound by binding " + d.binding
                        + " (expected: an unbound buffer; unbind it first)");
            }
        }
        long id = nextBinding + 1; // taken only if the binding is made: a refusal consumes no id
        DevmemProvider p = new DevmemProvider(id, d, device, queues, () -> drained(id, d));
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(MemoryProvider.NAME, p.name());
        props.put(MemoryProvider.PRIVATE, Boolean.TRUE);
        ServiceRegistration<MemoryProvider> reg = context.registerService(MemoryProvider.class, p, props);
        BindingInfo engine;
        try {
            // By the object, never by name: another bundle's provider called devmem-<id> gets nothing.
            engine = pools.bind(device, queues, p, "dma-buf binding " + id + " (pp:dmabuf_unbind " + id + ")");
            if (engine.state() != BindingInfo.State.APPLIED) {
                pools.unbind(engine.id());
                throw new IllegalArgumentException("binding buffer " + buffer + " to " + device + " queues " + queues
                        + " failed: " + engine.message());
            }
        } catch (RuntimeException e) {
            reg.unregister();
            throw e;
        }
        nextBinding = id;
        synchronized (state) {
            d.binding = id;
        }
        bindings.put(id, new Binding(p, reg, engine.id(), owner));
        return info(p);
    }

    /**
     * @param owner who asks, or null for the bundle itself
     * @return false when there is no such binding
     * @throws IllegalArgumentException when another owner made it
     */
    synchronized boolean unbind(long id, String owner) {
        Binding b = bindings.get(id);
        if (b == null) {
            return false;
        }
        checkOwner(b.owner(), owner, "binding " + id);
        bindings.remove(id);
        try {
            pools.unbind(b.engineBinding());
        } catch (IllegalStateException e) {
            // The engine is stopping: its pools close anyway.
        }
        try {
            b.service().unregister();
        } catch (IllegalStateException e) {
            // Already gone with the bundle.
        }
        long out = b.provider().chunksOut();
        if (out > 0) {
            LOG.log(Level.WARNING, "devmem binding " + id + " torn down with " + out + " of "
                    + b.provider().buffer.size / 4096 + " chunks of buffer " + b.provider().buffer.id
                    + " still out: the buffer is freed after they come back");
        }
        draining.put(id, b.provider());
        b.provider().unbind();
        return true;
    }

    private static void checkOwner(String actual, String asking, String what) {
        if (asking != null && !asking.equals(actual)) {
            throw new IllegalArgumentException(what + " belongs to " + actual + " (expected: only the bundle that made"
                    + " it changes it)");
        }
    }

    /** Every chunk of an unbound binding is back: the buffer is free, or freed if it was destroyed. */
    private void drained(long id, DmaBuf d) {
        synchronized (state) {
            draining.remove(id);
            d.binding = 0;
            if (!buffers.containsKey(d.id)) {
                free(d);
            }
        }
    }

    /**
     * @param owner who asks, or null for the bundle itself
     * @return false when there is no such buffer
     * @throws IllegalArgumentException when another owner made it
     */
    synchronized boolean destroy(int buffer, String owner) {
        DmaBuf d = buffers.get(buffer);
        if (d == null) {
            return false;
        }
        checkOwner(d.owner, owner, "buffer " + buffer);
        long bound;
        synchronized (state) {
            buffers.remove(buffer);
            bound = d.binding;
        }
        if (bound != 0 && bindings.containsKey(bound)) {
            unbind(bound, null);
        }
        synchronized (state) {
            if (d.binding == 0) {
                free(d);
            }
        }
        return true;
    }

    /** Frees a buffer's memory and its IOVA window; with {@link #state} held. */
    private void free(DmaBuf d) {
        d.free();
        Integer slot = slotOf.remove(d.id);
        if (slot != null) {
            slots.clear(slot);
        }
    }

    /** Buffers and bindings made by {@code owner} go: the bundle that made them stopped. */
    void release(String owner) {
        for (Binding b : List.copyOf(bindings.values())) {
            if (b.owner().equals(owner)) {
                unbind(b.provider().bindingId, null);
            }
        }
        for (DmaBuf d : List.copyOf(buffers.values())) {
            if (d.owner.equals(owner)) {
                destroy(d.id, null);
            }
        }
    }

    List<DmaBufInfo> buffers() {
        return buffers.values().stream().map(this::info).sorted(Comparator.comparingInt(DmaBufInfo::id))
                .toList();
    }

    List<DevmemBindingInfo> bindings() {
        List<DevmemBindingInfo> out = new ArrayList<>();
        bindings.values().forEach(b -> out.add(info(b.provider())));
        draining.values().forEach(p -> out.add(info(p)));
        out.sort(Comparator.comparingLong(DevmemBindingInfo::id));
        return out;
    }

    private DmaBufInfo info(DmaBuf d) {
        synchronized (state) {
            return new DmaBufInfo(d.id, d.size, d.owner, d.binding);
        }
    }

    private static DevmemBindingInfo info(DevmemProvider p) {
        return new DevmemBindingInfo(p.bindingId, p.buffer.id, p.device, p.queues, p.name(), p.buffer.size / 4096,
                p.chunksFree(), p.chunksOut(), p.isUnbound() ? DevmemBindingInfo.State.DRAINING
                        : DevmemBindingInfo.State.BOUND);
    }
}

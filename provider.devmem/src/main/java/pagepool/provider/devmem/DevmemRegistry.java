package pagepool.provider.devmem;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
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
import org.osgi.service.component.annotations.Reference;

import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.PoolBindings;
import pagepool.api.devmem.DevmemBindingInfo;
import pagepool.api.devmem.DmaBufInfo;
import pagepool.api.provider.MemoryProvider;

/**
 * Every buffer and binding of the bundle, whoever made them. A binding registers its own
 * {@link MemoryProvider} service ({@code devmem-<id>}) and binds its queues to it through the
 * engine's {@link PoolBindings}, which restarts them onto the buffer. Unbinding reverses both;
 * the buffer is free again when the old pools have given every chunk back.
 */
@Component(service = DevmemRegistry.class)
public final class DevmemRegistry {

    private static final System.Logger LOG = System.getLogger(DevmemRegistry.class.getName());

    /** A binding: its provider, its service, and the engine's binding of its queues. */
    private record Binding(DevmemProvider provider, ServiceRegistration<MemoryProvider> service, long engineBinding,
            String owner) {
    }

    private final BundleContext context;
    private final PoolBindings pools;
    private final Map<Integer, DmaBuf> buffers = new ConcurrentHashMap<>();
    private final Map<Long, Binding> bindings = new ConcurrentHashMap<>();
    private int nextBuffer;
    private long nextBinding;

    @Activate
    public DevmemRegistry(BundleContext context, @Reference PoolBindings pools) {
        this.context = context;
        this.pools = pools;
    }

    /** The bundle stops: every binding goes, every buffer is freed once its chunks are back. */
    @Deactivate
    void deactivate() {
        for (Binding b : List.copyOf(bindings.values())) {
            unbind(b.provider().bindingId);
        }
        for (DmaBuf d : List.copyOf(buffers.values())) {
            destroy(d.id, d.owner);
        }
    }

    synchronized DmaBufInfo create(long size, String owner) {
        DmaBuf d = new DmaBuf(nextBuffer + 1, size, owner);
        nextBuffer++;
        buffers.put(d.id, d);
        return info(d);
    }

    synchronized DevmemBindingInfo bind(int buffer, String device, List<Integer> queues, String owner) {
        DmaBuf d = buffers.get(buffer);
        if (d == null) {
            throw new IllegalArgumentException("buffer: " + buffer + " is unknown (expected: one of "
                    + buffers.keySet().stream().sorted().toList() + ")");
        }
        if (d.binding != 0) {
            throw new IllegalArgumentException("buffer " + buffer + " is already bound by binding " + d.binding
                    + " (expected: an unbound buffer; unbind it first)");
        }
        long id = ++nextBinding;
        DevmemProvider p = new DevmemProvider(id, d, device, queues, () -> drained(id, d));
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(MemoryProvider.NAME, p.name());
        ServiceRegistration<MemoryProvider> reg = context.registerService(MemoryProvider.class, p, props);
        BindingInfo engine;
        try {
            engine = pools.bind(device, queues, p.name());
            if (engine.state() != BindingInfo.State.APPLIED) {
                pools.unbind(engine.id());
                throw new IllegalArgumentException("binding buffer " + buffer + " to " + device + " queues " + queues
                        + " failed: " + engine.message());
            }
        } catch (RuntimeException e) {
            reg.unregister();
            throw e;
        }
        d.binding = id;
        bindings.put(id, new Binding(p, reg, engine.id(), owner));
        return info(p);
    }

    synchronized boolean unbind(long id) {
        Binding b = bindings.remove(id);
        if (b == null) {
            return false;
        }
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
            LOG.log(Level.WARNING, "devmem binding {0} torn down with {1} of {2} chunks of buffer {3} still out:"
                    + " the buffer is freed after they come back", id, out, b.provider().buffer.size / 4096,
                    b.provider().buffer.id);
        }
        draining.put(id, b.provider());
        b.provider().unbind();
        return true;
    }

    private final Map<Long, DevmemProvider> draining = new ConcurrentHashMap<>();

    /** Every chunk of an unbound binding is back: the buffer is free, or freed if it was destroyed. */
    private void drained(long id, DmaBuf d) {
        draining.remove(id);
        synchronized (this) {
            d.binding = 0;
            if (!buffers.containsKey(d.id)) {
                d.free();
            }
        }
    }

    synchronized boolean destroy(int buffer, String owner) {
        DmaBuf d = buffers.remove(buffer);
        if (d == null) {
            return false;
        }
        if (d.binding != 0) {
            Binding b = bindings.get(d.binding);
            if (b != null) {
                unbind(d.binding);
            }
        }
        if (d.binding == 0) {
            d.free();
        }
        return true;
    }

    /** Buffers and bindings made by {@code owner} go: the bundle that made them stopped. */
    void release(String owner) {
        for (Binding b : List.copyOf(bindings.values())) {
            if (b.owner().equals(owner)) {
                unbind(b.provider().bindingId);
            }
        }
        for (DmaBuf d : List.copyOf(buffers.values())) {
            if (d.owner.equals(owner)) {
                destroy(d.id, owner);
            }
        }
    }

    List<DmaBufInfo> buffers() {
        return buffers.values().stream().map(DevmemRegistry::info).sorted(Comparator.comparingInt(DmaBufInfo::id))
                .toList();
    }

    List<DevmemBindingInfo> bindings() {
        List<DevmemBindingInfo> out = new ArrayList<>();
        bindings.values().forEach(b -> out.add(info(b.provider())));
        draining.values().forEach(p -> out.add(info(p)));
        out.sort(Comparator.comparingLong(DevmemBindingInfo::id));
        return out;
    }

    private static DmaBufInfo info(DmaBuf d) {
        return new DmaBufInfo(d.id, d.size, d.owner, d.binding);
    }

    private static DevmemBindingInfo info(DevmemProvider p) {
        return new DevmemBindingInfo(p.bindingId, p.buffer.id, p.device, p.queues, p.name(), p.buffer.size / 4096,
                p.chunksFree(), p.chunksOut(), p.isUnbound() ? DevmemBindingInfo.State.DRAINING
                        : DevmemBindingInfo.State.BOUND);
    }
}

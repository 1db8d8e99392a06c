package pagepool.provider.devmem;

import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ServiceScope;

import pagepool.api.devmem.DevmemBindingInfo;
import pagepool.api.devmem.DmaBufInfo;
import pagepool.api.devmem.DmaBufs;

/**
 * {@link DmaBufs} for one using bundle: the buffers and bindings it makes are its own, and go
 * when it stops using the service (as a dma-buf binding goes with the netlink socket that made it).
 */
@Component(service = DmaBufs.class, scope = ServiceScope.BUNDLE)
public final class DmaBufsComponent implements DmaBufs {

    private final DevmemRegistry registry;
    private final String owner;

    @Activate
    public DmaBufsComponent(@Reference DevmemRegistry registry, ComponentContext context) {
        this.registry = registry;
        Bundle user = context.getUsingBundle();
        this.owner = "bundle:" + (user == null ? "?" : user.getSymbolicName() + "#" + user.getBundleId());
    }

    @Deactivate
    void deactivate() {
        registry.release(owner);
    }

    @Override
    public DmaBufInfo create(long size) {
        return registry.create(size, owner);
    }

    @Override
    public DevmemBindingInfo bind(int buffer, String device, List<Integer> queues) {
        if (queues == null || queues.isEmpty() || queues.stream().anyMatch(java.util.Objects::isNull)) {
            throw pagepool.api.Checks.invalid("queues", queues, "at least one queue index, none of them null");
        }
        return registry.bind(buffer, device, queues, owner);
    }

    @Override
    public boolean unbind(long binding) {
        return registry.unbind(binding, owner);
    }

    @Override
    public boolean destroy(int buffer) {
        return registry.destroy(buffer, owner);
    }

    @Override
    public List<DmaBufInfo> buffers() {
        return registry.buffers();
    }

    @Override
    public List<DevmemBindingInfo> bindings() {
        return registry.bindings();
    }
}

package pagepool.tck;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

import pagepool.api.DeviceMemory;
import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PoolParams;
import pagepool.api.provider.PoolContext;

/**
 * The pool side of the provider contract as the kit plays it: parameters, carving (remembering
 * every handle carved, so a page from anywhere else is caught), and the attachment.
 */
final class TckPoolContext implements PoolContext {

    private final int id;
    private final PoolParams params;
    private final Set<Netmem> carved = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    private volatile Object attachment;

    TckPoolContext(int id, PoolParams params) {
        this.id = id;
        this.params = params;
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public PoolParams params() {
        return params;
    }

    @Override
    public Netmem[] carve(MemoryArea area) {
        if (!area.isReadable()) {
            throw new IllegalArgumentException("carve: " + area + " is unreadable (expected: carve(area, device))");
        }
        return handles(area);
    }

    @Override
    public Netmem[] carve(MemoryArea area, DeviceMemory device) {
        if (area.isReadable()) {
            throw new IllegalArgumentException("carve with a device view: " + area + " is readable");
        }
        return handles(area);
    }

    private Netmem[] handles(MemoryArea area) {
        Netmem[] out = new Netmem[area.pageCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = new Netmem(area, i) { };
            carved.add(out[i]);
        }
        return out;
    }

    boolean carvedHere(Netmem nm) {
        return carved.contains(nm);
    }

    @Override
    public void attach(Object state) {
        attachment = state;
    }

    @Override
    public Object attachment() {
        return attachment;
    }
}

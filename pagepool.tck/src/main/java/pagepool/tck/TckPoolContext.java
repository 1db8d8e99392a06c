package pagepool.tck;

import pagepool.api.DeviceMemory;
import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PoolParams;
import pagepool.api.provider.PoolContext;

/**
 * The pool side of the provider contract as the kit plays it: parameters, carving (handles of the
 * kit's own class, so a page the provider made itself is caught), and the attachment.
 */
final class TckPoolContext implements PoolContext {

    private final int id;
    private final PoolParams params;
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
            out[i] = new Carved(area, i);
        }
        return out;
    }

    /**
     * Whether a kit's pool context carved {@code nm}: any of them, as the engine accepts a page any
     * of its pools carved (a provider carves an area once and serves every pool from it).
     */
    static boolean carvedByKit(Netmem nm) {
        return nm instanceof Carved;
    }

    /** A handle {@link #carve} made; no provider can make one. */
    private static final class Carved extends Netmem {
        Carved(MemoryArea area, int index) {
            super(area, index);
        }
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

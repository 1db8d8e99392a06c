package pagepool.api.testing;

import pagepool.api.DeviceMemory;
import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PoolParams;
import pagepool.api.provider.PoolContext;

/**
 * The pool side of the provider SPI reduced to what a provider's unit tests need: parameters,
 * carving into plain netmems, and the attachment. Shared with provider modules as a test jar.
 */
public final class StubPoolContext implements PoolContext {

    private final int id;
    private final PoolParams params;
    private Object attachment;

    public StubPoolContext(int id, PoolParams params) {
        this.id = id;
        this.params = params;
    }

    public StubPoolContext(PoolParams params) {
        this(1, params);
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
        Netmem[] out = new Netmem[area.pageCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = new Netmem(area, i) { };
        }
        return out;
    }

    /** The device views providers gave with their areas, for their tests to look at. */
    public final java.util.Map<MemoryArea, DeviceMemory> devices = new java.util.HashMap<>();

    @Override
    public Netmem[] carve(MemoryArea area, DeviceMemory device) {
        if (area.isReadable()) {
            throw new IllegalArgumentException("carve with a device view: " + area + " is readable");
        }
        devices.put(area, device);
        return carve(area);
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

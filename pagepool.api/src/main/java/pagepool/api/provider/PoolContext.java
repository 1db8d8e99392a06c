package pagepool.api.provider;

import org.osgi.annotation.versioning.ProviderType;

import pagepool.api.DeviceMemory;
import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PoolParams;

/** A page pool as its memory provider sees it. */
@ProviderType
public interface PoolContext {

    int id();

    PoolParams params();

    /**
     * Makes the netmem handles of an area, one per page, index i at {@code [i]}. A provider
     * carves each area once and hands its netmems out many times.
     *
     * @throws IllegalArgumentException for an unreadable area (carve device memory with its
     *         device view), or any unreadable area when the provider declares readable memory
     */
    Netmem[] carve(MemoryArea area);

    /**
     * Carves an unreadable area whose bytes only the device reaches through {@code device}. The
     * pool hands that view to nobody but the driver of its queue, one page at a time
     * ({@link pagepool.api.PagePool#deviceWrite}, {@link pagepool.api.PagePool#deviceRead}).
     *
     * @throws IllegalArgumentException for a readable area
     */
    Netmem[] carve(MemoryArea area, DeviceMemory device);

    /** Attaches the provider's per-pool state ({@code mp_priv}). */
    void attach(Object state);

    /** The state given to {@link #attach}, or null. */
    Object attachment();
}

package pagepool.api.provider;

import org.osgi.annotation.versioning.ProviderType;

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
     */
    Netmem[] carve(MemoryArea area);

    /** Attaches the provider's per-pool state ({@code mp_priv}). */
    void attach(Object state);

    /** The state given to {@link #attach}, or null. */
    Object attachment();
}

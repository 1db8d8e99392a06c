package pagepool.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One RX queue's page pool, as its driver uses it.
 *
 * <p>Threading follows the kernel: {@link #alloc()}, {@link #allocFrag} and {@link #recycleDirect}
 * belong to the queue's NAPI context, the single thread that refills the RX ring (the first thread
 * that allocates becomes it). {@link #release} may be called from any thread. Inspection methods
 * may be called from any thread.
 */
@ProviderType
public interface PagePool extends AutoCloseable {

    /** Pool id, unique in the running system. */
    int id();

    PoolParams params();

    /**
     * Takes one page, with one reference, for the device to fill. NAPI context only.
     *
     * @return a page, or null when the provider has no memory now (the driver counts the failure)
     * @throws IllegalStateException when called outside the pool's NAPI context, or after close
     */
    Netmem alloc();

    /**
     * Takes {@code size} bytes of a page shared with other fragments, and describes them in
     * {@code out}. NAPI context only.
     *
     * @return false when the provider has no memory now; {@code out} is then untouched
     * @throws IllegalArgumentException when size is not 1..page size
     */
    boolean allocFrag(int size, Frag out);

    /**
     * Drops one reference from the queue's NAPI context; the last one recycles the page straight
     * into the pool's cache. Called from any other thread, it behaves as {@link #release}.
     *
     * @throws BadReleaseException when the page is not out of this pool
     */
    void recycleDirect(Netmem netmem);

    /**
     * Drops one reference from any thread; the last one recycles the page through the pool's
     * ring, or gives it back to the provider when the ring is full.
     *
     * @throws BadReleaseException when the page is not out of this pool
     */
    void release(Netmem netmem);

    /**
     * Makes the CPU's view of the first {@code size} bytes (capped at max_len) visible to the
     * device before it is handed to the NIC again, for pools with {@link PoolParams#DMA_SYNC_DEV}.
     */
    void syncForDevice(Netmem netmem, int size);

    /**
     * The NAPI context moved to another node: pages of other nodes in the ring are waived on
     * refill from now on ({@code page_pool_nid_changed}).
     */
    void nidChanged(int nid);

    PoolStats stats();

    PoolInfo info();

    /**
     * Destroys the pool ({@code page_pool_destroy}). The caller must have stopped the NAPI
     * context. Pages still in flight detach the pool: it keeps accepting them and gives them
     * to the provider, whose destroy runs when the last one is back.
     */
    @Override
    void close();
}

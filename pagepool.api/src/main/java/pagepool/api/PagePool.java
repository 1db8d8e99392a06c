package pagepool.api;

import java.lang.foreign.MemorySegment;

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
     * Takes up to {@code max} pages at once, each with one reference, into {@code out} from
     * index 0: a ring refill's worth for the cost of one call's checks. NAPI context only.
     *
     * @return how many; fewer than {@code max} (0 included) when the provider has no more memory now
     * @throws IllegalArgumentException when {@code max} is negative or more than {@code out} holds
     * @throws IllegalStateException when called outside the pool's NAPI context, or after close
     */
    int alloc(Netmem[] out, int max);

    /**
     * Gives up the calling thread's hold on the pool's allocation side: the next thread to
     * allocate becomes the pool's NAPI context. A driver fills a new ring in process context, as
     * Linux's {@code ndo_queue_mem_alloc} does, then hands the pool over; the queue's NAPI thread
     * takes it with the queue's start or swap, which must reach it through something that orders
     * the two (a task queue). The calling thread does not allocate from the pool again. Nothing
     * happens when no thread holds the pool yet.
     *
     * @throws IllegalStateException when another thread holds it
     */
    void handOverNapi();

    /**
     * Takes {@code size} bytes of a page shared with other fragments, and describes them in
     * {@code out}. NAPI context only.
     *
     * @return false when the provider has no memory now; {@code out} is then untouched
     * @throws IllegalArgumentException when size is not 1..page size
     */
    boolean allocFrag(int size, Frag out);

    /**
     * {@code page_pool_ref_netmem}: takes one more reference on a page the caller holds one of,
     * so the page stays out of the pool until every holder has released it — e.g. the several
     * datagrams a NIC or the kernel coalesced into one buffer, kept by consumers one by one. Each
     * reference is given back by its own release.
     *
     * @throws BadReleaseException when the page is not out of this pool, or has no reference left
     */
    void ref(Netmem netmem);

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
     * {@link #recycleDirect(Netmem)} that also refuses a stale reference: one whose
     * {@link Netmem#generation() generation}, taken when the caller got the page, is not the
     * page's any more because the page was given back and handed out again meanwhile.
     *
     * @throws BadReleaseException when the page is not out of this pool, or the generation is stale
     */
    void recycleDirect(Netmem netmem, int generation);

    /**
     * {@link #release(Netmem)} that also refuses a stale reference, as {@link #recycleDirect(Netmem, int)}.
     *
     * @throws BadReleaseException when the page is not out of this pool, or the generation is stale
     */
    void release(Netmem netmem, int generation);

    /**
     * {@code page_pool_put_netmem_bulk}: drops one reference from each of {@code count} pages,
     * from any thread, each checked as {@link #release(Netmem, int)} checks it against its
     * generation; the pages this frees go to the pool's ring with one reservation for the batch
     * (to the provider what does not fit). As in Linux, {@code netmems} is the pool's scratch
     * space during the call: its first {@code count} entries are undefined afterwards.
     *
     * @throws BadReleaseException after every good page of the batch was given back, naming the
     *         first page refused (not out of this pool, or stale) and how many were; each is
     *         counted as a bad release
     * @throws IllegalArgumentException when {@code count} is negative or more than either array holds
     */
    void release(Netmem[] netmems, int[] generations, int count);

    /**
     * The NIC writes into an unreadable page it has from this pool (DMA into device memory),
     * through the device view the page's provider gave the pool. Only the pool's driver holds the
     * pool, so only it reaches device memory, and only pages of its own, within their bounds.
     *
     * @param offset byte offset in the page
     * @return false when the provider's device memory failed (counted as its fault); the driver
     *         drops the packet
     * @throws IllegalArgumentException when the range is not inside the page, or {@code src} is
     *         null, closed or too short from {@code srcOffset}: the caller's fault, never charged
     *         to the provider
     * @throws BadReleaseException when the page is not out of this pool
     * @throws UnreadableNetmemException when the page is readable memory (write it directly)
     */
    boolean deviceWrite(Netmem netmem, int offset, MemorySegment src, long srcOffset, int length);

    /**
     * The device that owns an unreadable page reads it (the GPU checking a payload in devmem TCP);
     * the same checks as {@link #deviceWrite}.
     *
     * @return false when the provider's device memory failed (counted as its fault)
     */
    boolean deviceRead(Netmem netmem, int offset, MemorySegment dst, long dstOffset, int length);

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

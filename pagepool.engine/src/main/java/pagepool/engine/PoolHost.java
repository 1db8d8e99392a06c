package pagepool.engine;

/**
 * What a pool tells the engine about its life: detached pools are watched until destroyed, and
 * a provider that faulted is reported so its queue can move to other memory.
 */
interface PoolHost {

    /** The pool closed with pages in flight. */
    void detached(PagePoolImpl pool);

    /** The pool's last page came back and the provider's destroy ran. */
    void destroyed(PagePoolImpl pool);

    /**
     * The pool's provider threw (counted already). Called on whatever thread met the fault, NAPI
     * included: must not block.
     */
    void providerFault(GuardedProvider provider, PagePoolImpl pool, Faults.Call call, String what);
}

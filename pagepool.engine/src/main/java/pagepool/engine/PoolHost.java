package pagepool.engine;

/**
 * What a pool tells its registry about its life: detached pools are watched until destroyed.
 * (A provider's faults go from its {@link GuardedProvider} to the engine directly.)
 */
interface PoolHost {

    /** The pool closed with pages in flight. */
    void detached(PagePoolImpl pool);

    /** The pool's last page came back and the provider's destroy ran. */
    void destroyed(PagePoolImpl pool);
}

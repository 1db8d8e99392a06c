package pagepool.engine;

/** What a pool tells the engine about its life: detached pools are watched until destroyed. */
interface PoolHost {

    /** The pool closed with pages in flight. */
    void detached(PagePoolImpl pool);

    /** The pool's last page came back and the provider's destroy ran. */
    void destroyed(PagePoolImpl pool);
}

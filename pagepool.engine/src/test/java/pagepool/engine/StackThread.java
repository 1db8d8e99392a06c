package pagepool.engine;

import java.util.List;

import pagepool.api.Netmem;
import pagepool.api.PagePool;

/** A thread that is not the pool's NAPI owner, as the network stack's: its releases go through the ring. */
final class StackThread {

    private StackThread() {
    }

    /** Releases the pages from a new thread and waits for it. */
    static void release(PagePool pool, List<Netmem> pages) throws InterruptedException {
        Thread t = new Thread(() -> pages.forEach(pool::release), "stack");
        t.start();
        t.join();
    }
}

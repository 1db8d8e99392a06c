package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.api.binding.Change;
import pagepool.api.testing.TestProvider;

/** A pool's changes are said in its life's order: added, detached, destroyed, each once. */
class DetachOrderTest {

    private final ChangeFeed feed = new ChangeFeed();
    private final PoolRegistry pools = new PoolRegistry(5, 60_000, feed);
    private final BlockingQueue<Change> heard = new LinkedBlockingQueue<>();

    @AfterEach
    void close() {
        pools.close();
        feed.close();
    }

    private Change.Kind next() throws InterruptedException {
        Change c = heard.poll(10, TimeUnit.SECONDS);
        return c == null ? null : c.kind();
    }

    @Test
    void aDetachSaidLateAfterTheDestroyIsNotSaid() throws InterruptedException {
        feed.subscribe(heard::add);
        PagePool pool = pools.create(PoolParams.builder().queue("sim0", 1).build(), new TestProvider("test"));
        List<Netmem> held = new ArrayList<>();
        held.add(pool.alloc());
        pool.close();
        StackThread.release(pool, held);
        assertEquals(Change.Kind.POOL_ADDED, next());
        assertEquals(Change.Kind.POOL_DETACHED, next());
        assertEquals(Change.Kind.POOL_DESTROYED, next());
        // The pool's detached() arriving now, as when the last page came back on another thread
        // first, says nothing: the stream never has a pool detached after it was destroyed.
        pools.detached((PagePoolImpl) pool);
        assertNull(heard.poll(200, TimeUnit.MILLISECONDS), "nothing after the destroy");
    }
}

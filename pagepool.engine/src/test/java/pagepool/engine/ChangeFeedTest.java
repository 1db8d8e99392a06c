package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pagepool.api.testing.Await.await;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.Change;
import pagepool.api.binding.Change.Kind;
import pagepool.api.testing.TestProvider;
import pagepool.provider.heap.HeapMemoryProvider;

/** Change notifications, as pp:monitor subscribes to them. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ChangeFeedTest {

    private final StandaloneEngine engine = new StandaloneEngine(10, 60_000);
    private final List<Change> seen = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        engine.close();
    }

    private boolean saw(Kind kind, java.util.function.Predicate<Change> which) {
        return seen.stream().anyMatch(c -> c.kind() == kind && which.test(c));
    }

    @Test
    void aBindingIsSeenAsANewPoolTheQueueMovingAndTheOldPoolDestroyed() throws Exception {
        engine.addProvider(new HeapMemoryProvider(1L << 30), true);
        FakeDevice dev = new FakeDevice("fake0", 2, engine.factory());
        engine.addDevice(dev);
        engine.addProvider(new TestProvider("other"), false);
        int old = engine.bindings().queues().stream().filter(q -> q.queue().index() == 1).findFirst().orElseThrow()
                .poolId();
        Change.Subscription s = engine.bindings().subscribe(seen::add);

        BindingInfo b = engine.bindings().bind("fake0", List.of(1), "other");
        assertEquals(BindingInfo.State.APPLIED, b.state(), b.message());
        QueueId q1 = new QueueId("fake0", 1);
        await("the new pool, the queue, the old pool", () -> saw(Kind.POOL_ADDED, c -> q1.equals(c.queue())
                && c.provider().equals("other")) && saw(Kind.QUEUE_CHANGED, c -> q1.equals(c.queue())
                        && c.provider().equals("other")) && saw(Kind.POOL_DESTROYED, c -> c.pool() == old));
        Change moved = seen.stream().filter(c -> c.kind() == Kind.QUEUE_CHANGED).findFirst().orElseThrow();
        assertEquals("restarted from 'heap'", moved.detail());
        List<Kind> order = seen.stream().map(Change::kind).toList();
        assertTrue(order.indexOf(Kind.POOL_ADDED) < order.indexOf(Kind.QUEUE_CHANGED)
                && order.indexOf(Kind.QUEUE_CHANGED) < order.indexOf(Kind.POOL_DESTROYED), "in order: " + order);

        s.close();
        int before = seen.size();
        engine.bindings().unbind("fake0", List.of(1));
        Thread.sleep(100); // nothing to wait for: a closed subscription hears nothing, which is what is checked
        assertEquals(before, seen.size(), "closed: " + seen.subList(before, seen.size()));
        s.close(); // twice: nothing
    }

    @Test
    void aPoolClosedWithPagesOutIsSeenDetachedThenDestroyed() throws Exception {
        engine.bindings().subscribe(seen::add);
        engine.bindings().subscribe(c -> {
            throw new IllegalStateException("a listener that fails does not stop the others");
        });
        PagePool pool = engine.createPool(PoolParams.builder().queue("q0", 2).build(), new TestProvider("t"));
        Netmem page = pool.alloc();
        pool.close();
        await("detached", () -> saw(Kind.POOL_DETACHED, c -> c.pool() == pool.id()));
        Change d = seen.stream().filter(c -> c.kind() == Kind.POOL_DETACHED).findFirst().orElseThrow();
        assertEquals("1 pages in flight", d.detail());
        assertEquals(new QueueId("q0", 2), d.queue());
        pool.release(page);
        await("destroyed", () -> saw(Kind.POOL_DESTROYED, c -> c.pool() == pool.id()));
        assertEquals(List.of(Kind.POOL_ADDED, Kind.POOL_DETACHED, Kind.POOL_DESTROYED), seen.stream()
                .map(Change::kind).toList());
    }

    @Test
    void aListenerThatBlocksHoldsUpNoOtherAndIsDroppedWhenItFallsTooFarBehind() throws Exception {
        try (ChangeFeed feed = new ChangeFeed()) {
            java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
            feed.subscribe(c -> {
                try {
                    never.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            List<Change> heard = new CopyOnWriteArrayList<>();
            feed.subscribe(heard::add);
            QueueId q = new QueueId("sim0", 0);
            int n = ChangeFeed.BACKLOG + 2;
            for (int i = 1; i <= n; i++) {
                feed.publish(Kind.POOL_ADDED, i, q, "heap", "");
            }
            await("every change heard by the listener that keeps up", () -> heard.size() == n);
            assertEquals(List.of(1, 2, 3), heard.subList(0, 3).stream().map(Change::pool).toList(), "in order");
            assertEquals(1, feed.dropped(), "the one that blocks fell behind and was dropped");
            feed.publish(Kind.POOL_ADDED, n + 1, q, "heap", "");
            await("the feed goes on", () -> heard.size() == n + 1);
        }
    }
}

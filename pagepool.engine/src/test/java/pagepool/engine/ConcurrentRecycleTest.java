package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.PoolStats;
import pagepool.api.testing.TestProvider;

/**
 * One NAPI owner allocating while other threads release: every page is accounted for and no
 * page is out with two owners at once.
 */
class ConcurrentRecycleTest {

    private static final int PAGES = 200_000;
    private static final int RELEASERS = 3;
    private static final Netmem POISON = new Netmem(pagepool.api.MemoryArea.unreadable("end", 0, 4096).build(), 0) { };

    private final PoolRegistry pools = new PoolRegistry(5, 60_000);
    private final TestProvider provider = new TestProvider("test");

    @AfterEach
    void closePools() {
        pools.close();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void ownerAllocatesWhileOthersReleaseAndEveryPageIsAccountedFor() throws Exception {
        PagePool pool = pools.create(PoolParams.builder().poolSize(256).queue("eth0", 0).build(), provider);
        // Identity of every page currently out; a second put while present means two owners.
        Map<Netmem, Thread> out = new ConcurrentHashMap<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<BlockingQueue<Netmem>> queues = new ArrayList<>();
        List<Thread> releasers = new ArrayList<>();
        for (int i = 0; i < RELEASERS; i++) {
            BlockingQueue<Netmem> q = new ArrayBlockingQueue<>(512);
            queues.add(q);
            Thread t = new Thread(() -> {
                try {
                    for (Netmem nm; (nm = q.take()) != POISON;) {
                        if (out.remove(nm) == null) {
                            throw new AssertionError("released a page that was not out: " + nm);
                        }
                        pool.release(nm);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "stack-" + i);
            releasers.add(t);
            t.start();
        }

        Thread napi = new Thread(() -> {
            try {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                int allocated = 0;
                while (allocated < PAGES && failure.get() == null) {
                    Netmem nm = pool.alloc();
                    if (nm == null) {
                        Thread.onSpinWait();
                        continue;
                    }
                    allocated++;
                    Thread prev = out.put(nm, Thread.currentThread());
                    if (prev != null) {
                        throw new AssertionError(nm + " handed out while still out with " + prev.getName());
                    }
                    if (rnd.nextInt(4) == 0) {
                        out.remove(nm);
                        pool.recycleDirect(nm); // the driver drops the page itself
                    } else {
                        queues.get(rnd.nextInt(RELEASERS)).put(nm);
                    }
                }
                for (BlockingQueue<Netmem> q : queues) {
                    q.put(POISON);
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, "napi");
        napi.start();
        napi.join();
        for (Thread t : releasers) {
            t.join();
        }
        assertNull(failure.get(), () -> String.valueOf(failure.get()));
        assertTrue(out.isEmpty(), "pages still out: " + out.size());

        PoolStats s = pool.stats();
        // Each successful allocation counts exactly one of fast, refill or slow.
        assertEquals(PAGES, s.allocFast() + s.allocRefill() + s.allocSlow(), s::toString);
        assertTrue(s.recycleRing() > 0 && s.recycleCached() > 0, "both put paths ran: " + s);

        pool.close();
        PoolInfo info = pool.info();
        assertEquals(PoolInfo.State.DESTROYED, info.state(), "nothing is out, so close destroys");
        assertEquals(0, info.inflight());
        assertEquals(info.holdCount(), info.releaseCount());
        assertEquals(0, provider.pagesOut.get(), "the provider got back every page it handed out");
        assertEquals(1, provider.destroys.get());
        assertEquals(0, info.badReleases());
    }
}

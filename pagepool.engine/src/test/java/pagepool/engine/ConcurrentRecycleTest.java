package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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

    /**
     * alloc_fast has no counter on the fast path; the pool derives it from the cache's depth.
     * Read from another thread while the owner allocates, recycles, refills and finally closes
     * the pool, it never goes back and never counts an allocation that has not happened. A read
     * one too high, however brief, stays (the pool keeps the highest value it reported), so the
     * reader sees it as soon as the owner is between two allocations, and the exact total at the
     * end sees it too: that is how this test found depth and recycle_cached stored in the wrong
     * order.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void allocFastReadWhileTheOwnerRunsNeverGoesBackNorRunsAhead() throws Exception {
        PagePool pool = pools.create(PoolParams.builder().poolSize(256).queue("eth0", 0).build(), provider);
        AtomicLong started = new AtomicLong(); // the owner announces each alloc before it makes it
        AtomicBoolean closed = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong reads = new AtomicLong();
        Thread reader = new Thread(() -> {
            long last = 0;
            try {
                boolean lastRound = false;
                while (!lastRound) {
                    lastRound = closed.get();
                    PoolStats st = pool.stats();
                    VarHandle.fullFence(); // the stats are read before the count of allocations begun
                    long begun = started.get();
                    long fast = st.allocFast();
                    if (fast < last) {
                        throw new AssertionError("alloc_fast went back from " + last + " to " + fast);
                    }
                    if (fast + st.allocRefill() + st.allocSlow() > begun) {
                        throw new AssertionError("allocations counted ahead of the " + begun + " begun: " + st);
                    }
                    last = fast;
                    reads.incrementAndGet();
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, "stats");
        reader.start();

        // This thread is the NAPI owner: 16 pages in flight recycled direct, and now and then a
        // batch held back and released from another thread, so refills and the ring run too.
        Netmem[] inFlight = new Netmem[16];
        List<Netmem> heldBack = new ArrayList<>();
        for (int i = 0; i < PAGES && failure.get() == null; i++) {
            started.incrementAndGet();
            Netmem nm = pool.alloc();
            assertTrue(nm != null, "alloc " + i);
            Netmem old = inFlight[i & 15];
            inFlight[i & 15] = nm;
            if (old == null) {
                continue;
            }
            if (i % 7 == 0) {
                heldBack.add(old);
            } else {
                pool.recycleDirect(old);
            }
            if (heldBack.size() == 100) {
                StackThread.release(pool, heldBack);
                heldBack.clear();
            }
        }
        StackThread.release(pool, heldBack);
        for (Netmem nm : inFlight) {
            pool.recycleDirect(nm);
        }
        pool.close(); // drains the cache while the reader reads
        closed.set(true);
        reader.join();
        assertNull(failure.get(), () -> String.valueOf(failure.get()));
        assertTrue(reads.get() > 1, "the reader read while the owner ran");

        PoolStats s = pool.stats();
        assertEquals(PAGES, s.allocFast() + s.allocRefill() + s.allocSlow(), s::toString);
        assertTrue(s.allocRefill() > 0 && s.recycleCached() > 0, "the paths it derives from ran: " + s);
        assertEquals(PoolInfo.State.DESTROYED, pool.info().state());
    }
}

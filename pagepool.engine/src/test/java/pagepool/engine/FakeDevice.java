package pagepool.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Supplier;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PagePoolFactory;
import pagepool.api.PoolParams;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueMemory;
import pagepool.api.queue.QueueMgmtOps;
import pagepool.api.queue.QueueOperationException;

/**
 * A device for the engine's own tests: each queue's memory is a pool and a ring of a few pages,
 * made on the caller's thread; no traffic. Any queue operation can be told to throw, and a queue
 * can be told to report a failure, as a driver that misbehaves would.
 */
final class FakeDevice implements NetDevice, QueueMgmtOps {

    static final int RING = 8;

    /** One queue's memory: its pool and the pages posted. */
    record Memory(int queue, PagePool pool, List<Netmem> ring) implements QueueMemory {
    }

    private final String name;
    private final int queueCount;
    private final PagePoolFactory pools;
    private final Memory[] running;
    final AtomicLongArray starts;
    /** How often its counters were read. */
    final java.util.concurrent.atomic.AtomicInteger statsReads = new java.util.concurrent.atomic.AtomicInteger();
    final AtomicLongArray memAllocs;
    /** memFree calls under way now and at most at once; the memories freed. */
    final java.util.concurrent.atomic.AtomicInteger inMemFree = new java.util.concurrent.atomic.AtomicInteger();
    final java.util.concurrent.atomic.AtomicInteger mostInMemFree = new java.util.concurrent.atomic.AtomicInteger();
    final java.util.concurrent.atomic.AtomicInteger frees = new java.util.concurrent.atomic.AtomicInteger();
    /** While set, every memFree waits for it: a driver hung in all its frees. */
    volatile CountDownLatch freesHang;
    final Map<String, Supplier<? extends Throwable>> failing = new ConcurrentHashMap<>();
    /** Operations whose next call waits for its latch before doing anything, as a driver that hangs. */
    final Map<String, CountDownLatch> hanging = new ConcurrentHashMap<>();
    /** The last thread that hung in one of them. */
    volatile Thread hungIn;
    final String[] faults;
    volatile boolean headerSplit;
    /** Whether the driver offers make-before-break swaps; off: it only stops and starts. */
    volatile boolean swaps;
    final AtomicLongArray swapped;

    FakeDevice(String name, int queues, PagePoolFactory pools) {
        this.name = name;
        this.queueCount = queues;
        this.pools = pools;
        this.running = new Memory[queues];
        this.starts = new AtomicLongArray(queues);
        this.memAllocs = new AtomicLongArray(queues);
        this.faults = new String[queues];
        this.swapped = new AtomicLongArray(queues);
    }

    private void maybeFail(String op) throws QueueOperationException {
        Supplier<? extends Throwable> f = failing.get(op);
        if (f != null) {
            throw FakeDevice.<RuntimeException>sneaky(f.get());
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T sneaky(Throwable t) throws T {
        throw (T) t;
    }

    @Override
    public String name() {
        hang("name");
        return name;
    }

    @Override
    public int rxQueueCount() {
        return queueCount;
    }

    @Override
    public boolean headerSplit() {
        return headerSplit;
    }

    /** The fake is its own queue-management ops; null makes it a device the engine must refuse. */
    volatile QueueMgmtOps ops = this;

    @Override
    public QueueMgmtOps queueOps() {
        return ops;
    }

    @Override
    public QueueMemory memAlloc(int queue) throws QueueOperationException {
        memAllocs.incrementAndGet(queue);
        hang("memAlloc");
        maybeFail("memAlloc");
        PagePool pool = pools.create(PoolParams.builder().flags(PoolParams.DMA_MAP).queue(name, queue).build());
        List<Netmem> ring = new ArrayList<>();
        for (int i = 0; i < RING; i++) {
            Netmem nm = pool.alloc();
            if (nm == null) {
                ring.forEach(pool::release);
                pool.close();
                throw new QueueOperationException(name + "/" + queue + ": the pool gave " + i + " of " + RING + " buffers");
            }
            ring.add(nm);
        }
        return new Memory(queue, pool, ring);
    }

    @Override
    public synchronized QueueMemory stop(int queue) throws QueueOperationException {
        maybeFail("stop");
        Memory m = running[queue];
        running[queue] = null;
        return m;
    }

    @Override
    public synchronized void start(int queue, QueueMemory memory) throws QueueOperationException {
        maybeFail("start");
        running[queue] = (Memory) memory;
        starts.incrementAndGet(queue);
        faults[queue] = null;
    }

    @Override
    public synchronized boolean canSwap(int queue) {
        return swaps && running[queue] != null;
    }

    @Override
    public QueueMemory swap(int queue, QueueMemory memory) throws QueueOperationException {
        hang("swap");
        synchronized (this) {
            maybeFail("swap");
            Memory old = running[queue];
            running[queue] = (Memory) memory;
            swapped.incrementAndGet(queue);
            faults[queue] = null;
            return old;
        }
    }

    @Override
    public void memFree(QueueMemory memory) {
        int in = inMemFree.incrementAndGet();
        mostInMemFree.accumulateAndGet(in, Math::max);
        try {
            hang("memFree");
            awaitDeaf(freesHang);
            Memory m = (Memory) memory;
            m.ring().forEach(m.pool()::release);
            m.pool().close();
            frees.incrementAndGet();
            maybeFail("memFree");
        } catch (QueueOperationException e) {
            throw new IllegalStateException(e);
        } finally {
            inMemFree.decrementAndGet();
        }
    }

    /**
     * A driver that does not answer until told to (outside the lock, so its other calls still do):
     * the first call of {@code op} after a latch is put waits for it; the calls after it do not.
     */
    private void hang(String op) {
        CountDownLatch hang = hanging.remove(op);
        if (hang != null) {
            hungIn = Thread.currentThread();
        }
        awaitDeaf(hang);
    }

    /** Waits for the latch, if any, as a driver that ignores interrupts. */
    private static void awaitDeaf(CountDownLatch latch) {
        while (latch != null) {
            try {
                latch.await();
                return;
            } catch (InterruptedException e) {
                // as a driver that ignores it
            }
        }
    }

    @Override
    public String queueFault(int queue) {
        hang("queueFault");
        return faults[queue];
    }

    @Override
    public Map<String, Long> queueStats(int queue) {
        statsReads.incrementAndGet();
        hang("queueStats");
        return Map.of("starts", starts.get(queue));
    }

    synchronized Memory running(int queue) {
        return running[queue];
    }

    @Override
    public boolean carrier() {
        return true;
    }

    @Override
    public void setCarrier(boolean up) {
    }
}

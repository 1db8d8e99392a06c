package pagepool.api.provider;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;

/**
 * Ordinary off-heap pages in 64-page slabs, from a provider that throws from any call when a test
 * tells it to: the misbehaving plugin the engine must survive. It counts every call and every
 * page, so a test can check that init and destroy were paired and every page came back.
 * Shared with other modules as a test jar.
 */
public class FaultyProvider implements MemoryProvider {

    /** The calls a test can make throw. */
    public enum Call {
        INIT, ALLOC, RELEASE, DESTROY, DESCRIBE
    }

    private final String name;
    private final long iovaBase;
    private final Map<Call, Supplier<? extends Throwable>> faults = new EnumMap<>(Call.class);
    private volatile long allocLimit = Long.MAX_VALUE;
    /** Pages handed out and not yet back, over all pools. */
    public final AtomicLong pagesOut = new AtomicLong();
    /** Pages ever handed out. */
    public final AtomicLong pagesHandedOut = new AtomicLong();
    /** init calls, and those that returned normally (each owes a destroy). */
    public final AtomicLong inits = new AtomicLong();
    public final AtomicLong initsCompleted = new AtomicLong();
    public final AtomicLong destroys = new AtomicLong();
    private int poison;
    /** Calls that threw because the test said so. */
    public final AtomicLong thrown = new AtomicLong();

    public FaultyProvider(String name) {
        this(name, 0);
    }

    /** @param iovaBase added to each slab's address to make its DMA address */
    public FaultyProvider(String name, long iovaBase) {
        this.name = name;
        this.iovaBase = iovaBase;
    }

    /** From now on, {@code call} throws what {@code fault} makes (an exception or an error). */
    public synchronized FaultyProvider failing(Call call, Supplier<? extends Throwable> fault) {
        faults.put(call, fault);
        return this;
    }

    /** {@code call} works again. */
    public synchronized FaultyProvider healed(Call call) {
        faults.remove(call);
        return this;
    }

    /**
     * The next {@code pages} pages handed out are poisoned: their memory is gone (its arena is
     * closed), so whoever touches them meets an exception it did not expect. They are dropped
     * when they come back, never handed out again.
     */
    public synchronized FaultyProvider poison(int pages) {
        poison += pages;
        return this;
    }

    private synchronized boolean takePoison() {
        if (poison == 0) {
            return false;
        }
        poison--;
        return true;
    }

    /** allocNetmems gives nothing more once this many pages were handed out in all. */
    public FaultyProvider allocLimit(long pages) {
        allocLimit = pages;
        return this;
    }

    private void maybeFail(Call call) {
        Supplier<? extends Throwable> f;
        synchronized (this) {
            f = faults.get(call);
        }
        if (f != null) {
            thrown.incrementAndGet();
            throw FaultyProvider.<RuntimeException>sneaky(f.get());
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T sneaky(Throwable t) throws T {
        throw (T) t;
    }

    private static final class PoolMemory {
        final ArrayDeque<Netmem> free = new ArrayDeque<>();
        long out;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ProviderCapabilities capabilities() {
        return ProviderCapabilities.hostPages();
    }

    @Override
    public void init(PoolContext pool) throws ProviderRefusedException {
        inits.incrementAndGet();
        maybeFail(Call.INIT);
        pool.attach(new PoolMemory());
        initsCompleted.incrementAndGet();
    }

    @Override
    public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        maybeFail(Call.ALLOC);
        PoolMemory m = (PoolMemory) pool.attachment();
        synchronized (m) {
            if (m.free.isEmpty()) {
                int pageSize = pool.params().pageSize();
                MemorySegment slab = Arena.ofAuto().allocate(64L * pageSize, pageSize);
                MemoryArea.Builder b = MemoryArea.readable(name, slab).pageShift(Integer.numberOfTrailingZeros(pageSize));
                if (iovaBase != 0) {
                    b.dmaAddress(iovaBase + slab.address());
                }
                for (Netmem nm : pool.carve(b.build())) {
                    m.free.add(nm);
                }
            }
            int n = 0;
            if (max > 0 && takePoison()) {
                int pageSize = pool.params().pageSize();
                Arena gone = Arena.ofShared();
                MemorySegment dead = gone.allocate(pageSize, pageSize);
                gone.close();
                batch[n++] = pool.carve(MemoryArea.readable(name, dead).pageShift(Integer.numberOfTrailingZeros(pageSize))
                        .build())[0];
                pagesHandedOut.incrementAndGet();
            }
            while (n < max && !m.free.isEmpty() && pagesHandedOut.get() < allocLimit) {
                batch[n++] = m.free.poll();
                pagesHandedOut.incrementAndGet();
            }
            m.out += n;
            pagesOut.addAndGet(n);
            return n;
        }
    }

    @Override
    public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        PoolMemory m = (PoolMemory) pool.attachment();
        synchronized (m) {
            if (netmem.area().memory().scope().isAlive()) {
                m.free.add(netmem);
            }
            m.out--;
        }
        pagesOut.decrementAndGet();
        // Throws after taking the page: whether it did or not, the pool must count it as back.
        maybeFail(Call.RELEASE);
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
        destroys.incrementAndGet();
        maybeFail(Call.DESTROY);
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        maybeFail(Call.DESCRIBE);
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("provider-pages-out", pagesOut.get());
        return d;
    }
}

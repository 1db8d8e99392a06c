package pagepool.itest.provider;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * Ordinary off-heap pages in 64-page slabs, mapped at {@code iovaBase + address}, with a ledger the
 * tests read (pages out, inits and destroys) and faults a subclass may inject: the allocation
 * failing after so many pages or at random, {@code init} throwing or slow, {@code releaseNetmem}
 * and {@code destroy} throwing. Every injected fault says "injected" in its message.
 */
public abstract class SlabProvider implements MemoryProvider {

    private final String name;
    private final long iovaBase;
    /** What the tests read: pages out now and ever, pools set up and destroyed, faults thrown. */
    public final AtomicLong pagesOut = new AtomicLong();
    public final AtomicLong pagesHandedOut = new AtomicLong();
    public final AtomicLong initsCompleted = new AtomicLong();
    public final AtomicLong destroys = new AtomicLong();
    public final AtomicLong injected = new AtomicLong();

    protected SlabProvider(String name, long iovaBase) {
        this.name = name;
        this.iovaBase = iovaBase;
    }

    /** The faults to inject; none unless a subclass says otherwise. */
    protected Faults faults() {
        return Faults.NONE;
    }

    /**
     * What to inject: allocation failing (returning nothing) once so many pages were handed out,
     * or throwing with a probability; init throwing every n-th time or taking so long; release
     * and destroy throwing with a probability.
     */
    public record Faults(long allocFailAfterPages, double allocThrowProbability, int initThrowEvery, long initDelayMillis,
            double releaseThrowProbability, double destroyThrowProbability) {
        public static final Faults NONE = new Faults(Long.MAX_VALUE, 0, 0, 0, 0, 0);
    }

    private static final class PoolMemory {
        final Arena arena = Arena.ofShared();
        final ArrayDeque<Netmem> free = new ArrayDeque<>();
        long out;
    }

    private final SplittableRandom random = new SplittableRandom(42);
    private long inits;

    private synchronized boolean chance(double p) {
        return p > 0 && random.nextDouble() < p;
    }

    private RuntimeException injected(String call) {
        injected.incrementAndGet();
        return new IllegalStateException("injected fault in " + name + "." + call);
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
        Faults f = faults();
        long n;
        synchronized (this) {
            n = ++inits;
        }
        if (f.initThrowEvery() > 0 && n % f.initThrowEvery() == 0) {
            throw injected("init");
        }
        if (f.initDelayMillis() > 0 && n % 3 == 0) {
            try {
                Thread.sleep(f.initDelayMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        pool.attach(new PoolMemory());
        initsCompleted.incrementAndGet();
    }

    @Override
    public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        Faults f = faults();
        if (chance(f.allocThrowProbability())) {
            throw injected("allocNetmems");
        }
        if (pagesHandedOut.get() >= f.allocFailAfterPages()) {
            return 0;
        }
        PoolMemory m = (PoolMemory) pool.attachment();
        synchronized (m) {
            if (m.free.isEmpty()) {
                int pageSize = pool.params().pageSize();
                MemorySegment slab = m.arena.allocate(64L * pageSize, pageSize);
                MemoryArea.Builder b = MemoryArea.readable(name, slab).pageShift(Integer.numberOfTrailingZeros(pageSize));
                if (iovaBase != 0) {
                    b.dmaAddress(iovaBase + slab.address());
                }
                for (Netmem nm : pool.carve(b.build())) {
                    m.free.add(nm);
                }
            }
            int n = 0;
            while (n < max && !m.free.isEmpty()) {
                batch[n++] = m.free.poll();
            }
            m.out += n;
            pagesOut.addAndGet(n);
            pagesHandedOut.addAndGet(n);
            return n;
        }
    }

    @Override
    public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        PoolMemory m = (PoolMemory) pool.attachment();
        synchronized (m) {
            m.free.add(netmem);
            m.out--;
        }
        pagesOut.decrementAndGet();
        // Thrown after taking the page back: the pool must count it as returned either way.
        if (chance(faults().releaseThrowProbability())) {
            throw injected("releaseNetmem");
        }
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
        PoolMemory m = (PoolMemory) pool.attachment();
        destroys.incrementAndGet();
        synchronized (m) {
            if (m.out != 0) {
                throw new IllegalStateException(name + ": destroy of pool " + pool.id() + " with " + m.out + " pages out");
            }
            m.arena.close();
        }
        if (chance(faults().destroyThrowProbability())) {
            throw injected("destroy");
        }
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        PoolMemory m = (PoolMemory) pool.attachment();
        Map<String, Object> d = new LinkedHashMap<>();
        synchronized (m) {
            d.put("pages-out", m.out);
        }
        d.put("provider-pages-out", pagesOut.get());
        return d;
    }
}

package pagepool.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/** A provider whose memory layout and refusals a test chooses, and that counts every call. */
final class TestProvider implements MemoryProvider {

    final AtomicLong handedOut = new AtomicLong();
    final AtomicLong returned = new AtomicLong();
    final AtomicInteger destroys = new AtomicInteger();
    private final ProviderCapabilities caps;
    private final ArrayDeque<Netmem> free = new ArrayDeque<>();
    private final Arena arena = Arena.ofShared();
    volatile int node;
    volatile boolean recyclable = true;
    volatile String refuse;
    volatile long pageLimit = Long.MAX_VALUE;
    private long carved;

    TestProvider() {
        this(ProviderCapabilities.hostPages());
    }

    TestProvider(ProviderCapabilities caps) {
        this.caps = caps;
    }

    @Override
    public String name() {
        return "test";
    }

    @Override
    public ProviderCapabilities capabilities() {
        return caps;
    }

    @Override
    public void init(PoolContext pool) throws ProviderRefusedException {
        if (refuse != null) {
            throw new ProviderRefusedException(refuse);
        }
    }

    @Override
    public synchronized int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        int n = 0;
        while (n < max) {
            Netmem nm = free.pollFirst();
            if (nm == null) {
                if (carved >= pageLimit) {
                    break;
                }
                int pageSize = pool.params().pageSize();
                MemorySegment seg = arena.allocate(pageSize, pageSize);
                MemoryArea.Builder b = caps.readable() ? MemoryArea.readable(name(), seg)
                        : MemoryArea.unreadable(name(), seg.address(), pageSize);
                MemoryArea area = b.pageShift(Integer.numberOfTrailingZeros(pageSize)).node(node)
                        .recyclable(recyclable).build();
                nm = pool.carve(area)[0];
                carved++;
            }
            batch[n++] = nm;
        }
        handedOut.addAndGet(n);
        return n;
    }

    @Override
    public synchronized boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        returned.incrementAndGet();
        free.addFirst(netmem);
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
        destroys.incrementAndGet();
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        return Map.of("out", handedOut.get() - returned.get());
    }

    long out() {
        return handedOut.get() - returned.get();
    }
}

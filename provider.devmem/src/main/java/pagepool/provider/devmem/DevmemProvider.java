package pagepool.provider.devmem;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * The memory provider of one binding (the kernel's {@code mp_dmabuf_devmem} with the binding as
 * {@code mp_priv}): the buffer carved once into 4 KiB net_iovs, handed out from a free pool
 * shared by the binding's queues, and given back by the page pools. Unreadable; needs order 0,
 * DMA mapping and sync, and header split (checked by the engine when binding).
 */
final class DevmemProvider implements MemoryProvider {

    final long bindingId;
    final DmaBuf buffer;
    final List<Integer> queues;
    final String device;
    private final String name;
    private final ArrayDeque<Netmem> free = new ArrayDeque<>();
    private Netmem[] chunks;
    private long out;
    private int pools;
    private boolean unbound;
    private final Runnable drained;

    /** @param drained runs once when the binding is unbound and every chunk is back */
    DevmemProvider(long bindingId, DmaBuf buffer, String device, List<Integer> queues, Runnable drained) {
        this.bindingId = bindingId;
        this.buffer = buffer;
        this.device = device;
        this.queues = List.copyOf(queues);
        this.name = "devmem-" + bindingId;
        this.drained = drained;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ProviderCapabilities capabilities() {
        return new ProviderCapabilities(false, 0, true, true);
    }

    @Override
    public synchronized void init(PoolContext pool) throws ProviderRefusedException {
        if (unbound) {
            throw new ProviderRefusedException("binding " + bindingId + " is unbound");
        }
        if (pool.params().order() != 0) {
            throw new ProviderRefusedException("order " + pool.params().order() + " (expected: 0, net_iovs are 4 KiB)");
        }
        if (pool.params().contiguousPages() > 0) {
            // One free list serves every queue of the binding: no pool owns a range of it.
            throw new ProviderRefusedException("contiguousPages " + pool.params().contiguousPages()
                    + " (expected: 0, a binding's chunks are shared by its queues, not one pool's range)");
        }
        if (chunks == null) {
            MemoryArea area = MemoryArea.unreadable(name, buffer.dmaAddress(), buffer.size).bufferId(buffer.id).build();
            chunks = pool.carve(area, buffer);
            for (Netmem nm : chunks) {
                free.add(nm);
            }
        }
        pools++;
    }

    @Override
    public synchronized int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        int n = 0;
        while (n < max && !free.isEmpty()) {
            batch[n++] = free.poll();
        }
        out += n;
        return n;
    }

    @Override
    public synchronized boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        if (netmem.area() != chunks[0].area()) {
            throw new IllegalArgumentException(netmem + " given back to " + name + " is not a chunk of buffer "
                    + buffer.id);
        }
        free.add(netmem);
        out--;
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
        boolean done;
        synchronized (this) {
            pools--;
            done = unbound && pools == 0 && out == 0;
        }
        if (done) {
            drained.run();
        }
    }

    /** The binding is gone; {@code drained} runs now if nothing is out, else after the last pool. */
    void unbind() {
        boolean done;
        synchronized (this) {
            unbound = true;
            done = pools == 0 && out == 0;
        }
        if (done) {
            drained.run();
        }
    }

    synchronized long chunksOut() {
        return out;
    }

    synchronized long chunksFree() {
        return chunks == null ? buffer.size / 4096 : free.size();
    }

    synchronized boolean isUnbound() {
        return unbound;
    }

    @Override
    public synchronized Map<String, Object> describe(PoolContext pool) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dmabuf", buffer.id);
        m.put("binding", bindingId);
        m.put("chunks", buffer.size / 4096);
        m.put("chunks-free", (long) free.size());
        m.put("chunks-out", out);
        return m;
    }
}

package pagepool.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.engine.StandaloneEngine;
import pagepool.provider.heap.HeapMemoryProvider;

/**
 * Java heap the engine and the heap provider spend per 4 KiB page: netmem handles, memory
 * areas, segments and free lists, measured as the heap growth across a pool that holds
 * {@code pages} pages (all given back, so they rest in the cache, ring and provider free list).
 * Run with {@code ./bench footprint [pages]}.
 */
public final class MetadataFootprint {

    public static void main(String[] args) throws InterruptedException {
        int pages = args.length > 0 ? Integer.parseInt(args[0]) : 262_144;
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        try (StandaloneEngine engine = new StandaloneEngine()) {
            HeapMemoryProvider heap = new HeapMemoryProvider((long) pages * 4096);
            PagePool pool = engine.createPool(PoolParams.builder().poolSize(PoolParams.MAX_POOL_SIZE).build(), heap);
            Netmem[] held = new Netmem[pages];
            long before = usedAfterGc(mem);
            for (int i = 0; i < pages; i++) {
                held[i] = pool.alloc();
            }
            for (int i = 0; i < pages; i++) {
                pool.recycleDirect(held[i]);
                held[i] = null;
            }
            long after = usedAfterGc(mem);
            double perPage = (after - before) / (double) pages;
            System.out.printf("pages: %d (%d MiB off-heap)%n", pages, (long) pages * 4096 >> 20);
            System.out.printf("java heap for their metadata: %d bytes, %.1f bytes per page%n", after - before, perPage);
            System.out.println("pool: " + pool.info());
            pool.close();
        }
    }

    private static long usedAfterGc(MemoryMXBean mem) throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, mem.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}

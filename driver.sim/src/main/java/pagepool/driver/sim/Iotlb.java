package pagepool.driver.sim;

import pagepool.api.Checks;

/**
 * A set-associative IOTLB with LRU replacement: the IOMMU's cache of IOVA translations. An
 * entry covers one mapping at the granularity the provider mapped it (4 KiB for ordinary pages,
 * 2 MiB for a huge page), so the same traffic misses far less on huge pages. One per RX queue,
 * like a device's address-translation cache, so NAPI threads share nothing.
 */
final class Iotlb {

    private final long[] tags;
    private final long[] lastUse;
    private final int ways;
    private final int setMask;
    private long clock;
    long lookups;
    long misses;

    Iotlb(int entries, int ways) {
        if (ways < 1 || entries < ways || entries % ways != 0 || Integer.bitCount(entries / ways) != 1) {
            throw Checks.invalid("iotlb", entries + " entries, " + ways + " ways",
                    "entries a multiple of ways, with a power-of-2 number of sets");
        }
        this.tags = new long[entries];
        this.lastUse = new long[entries];
        java.util.Arrays.fill(tags, -1L);
        this.ways = ways;
        this.setMask = entries / ways - 1;
    }

    /** One DMA access at {@code iova} in a mapping of {@code 2^mappingShift} bytes. */
    void translate(long iova, int mappingShift) {
        lookups++;
        long tag = ((iova >>> mappingShift) << 6) | mappingShift;
        int base = (int) (mix(tag) & setMask) * ways;
        long now = ++clock;
        int victim = base;
        long oldest = Long.MAX_VALUE;
        for (int i = base; i < base + ways; i++) {
            if (tags[i] == tag) {
                lastUse[i] = now;
                return;
            }
            if (lastUse[i] < oldest) {
                oldest = lastUse[i];
                victim = i;
            }
        }
        misses++;
        tags[victim] = tag;
        lastUse[victim] = now;
    }

    private static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        return x ^ (x >>> 33);
    }
}

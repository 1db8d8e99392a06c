package pagepool.api;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A contiguous range of provider memory with one DMA address range, carved into equal pages
 * (the kernel's {@code net_iov_area}, or a slab of ordinary pages). Providers create areas; the
 * pool carves them into {@link Netmem} handles. One area is shared by all of its pages, so the
 * per-page metadata stays small.
 *
 * <p>An area is either readable (it has a {@link MemorySegment}) or unreadable (device memory:
 * only a DMA address, the bytes live where the CPU cannot go; the device reaches them through the
 * {@link DeviceMemory} view its provider gives the pool, never through the area).
 */
public final class MemoryArea {

    /** log2 of the smallest page: 4 KiB. */
    public static final int MIN_PAGE_SHIFT = 12;
    /** log2 of the largest page: order 10 on 4 KiB pages, as Linux's MAX_PAGE_ORDER. */
    public static final int MAX_PAGE_SHIFT = MIN_PAGE_SHIFT + PoolParams.MAX_ORDER;

    private final String provider;
    private final MemorySegment memory;
    private final long dmaAddress;
    private final int pageShift;
    private final int pageCount;
    private final int dmaMappingShift;
    private final int node;
    private final boolean recyclable;
    private final int bufferId;

    private MemoryArea(Builder b) {
        this.provider = b.provider;
        this.memory = b.memory;
        this.dmaAddress = b.dmaAddress;
        this.pageShift = b.pageShift;
        this.pageCount = (int) (b.size >>> b.pageShift);
        this.dmaMappingShift = b.dmaMappingShift;
        this.node = b.node;
        this.recyclable = b.recyclable;
        this.bufferId = b.bufferId;
    }

    /**
     * Starts an area over readable memory; its DMA address is the segment's address (an
     * identity-mapped IOMMU, as with {@code iommu=pt}).
     */
    public static Builder readable(String provider, MemorySegment memory) {
        Objects.requireNonNull(memory, "memory");
        return new Builder(provider, memory, memory.address(), memory.byteSize());
    }

    /** Starts an area over memory the CPU cannot read, known only by its DMA address and size. */
    public static Builder unreadable(String provider, long dmaAddress, long size) {
        return new Builder(provider, null, dmaAddress, size);
    }

    /** Name of the provider that owns this memory. */
    public String provider() {
        return provider;
    }

    /** Whether the CPU may read and write this memory. */
    public boolean isReadable() {
        return memory != null;
    }

    /**
     * The whole area's memory.
     *
     * @throws UnreadableNetmemException for device memory
     */
    public MemorySegment memory() {
        if (memory == null) {
            throw new UnreadableNetmemException("memory area of provider '" + provider + "' at DMA address 0x"
                    + Long.toHexString(dmaAddress) + " is unreadable (device memory): only the device can reach it");
        }
        return memory;
    }

    /** DMA address (IOVA) of the first page. */
    public long dmaAddress() {
        return dmaAddress;
    }

    /** log2 of the page size. */
    public int pageShift() {
        return pageShift;
    }

    public int pageSize() {
        return 1 << pageShift;
    }

    public int pageCount() {
        return pageCount;
    }

    public long byteSize() {
        return (long) pageCount << pageShift;
    }

    /**
     * log2 of the size of one IOMMU mapping over this area: the page size when each page is
     * mapped on its own, 21 when one mapping covers a 2 MiB huge page.
     */
    public int dmaMappingShift() {
        return dmaMappingShift;
    }

    /** NUMA-like node the memory lives on; 0 unless the provider knows better. */
    public int node() {
        return node;
    }

    /**
     * Whether the pool may keep this area's pages for reuse. False for memory the provider wants
     * back as soon as it is released (the kernel's pfmemalloc pages, or a fallback page standing
     * in for an exhausted huge page); such releases count as {@code recycle_released_refcnt}.
     */
    public boolean isRecyclable() {
        return recyclable;
    }

    /**
     * The provider's id of the buffer this area is (part of), e.g. the dma-buf id of device
     * memory, as applications see it in frag descriptors; 0 when the provider gives none. The
     * area starts at offset 0 of that buffer.
     */
    public int bufferId() {
        return bufferId;
    }

    @Override
    public String toString() {
        return "MemoryArea[" + provider + " dma=0x" + Long.toHexString(dmaAddress) + " pages=" + pageCount + "x"
                + pageSize() + (isReadable() ? "" : " unreadable") + "]";
    }

    /** Builds a {@link MemoryArea}; every value is checked in {@link #build()}. */
    public static final class Builder {
        private final String provider;
        private final MemorySegment memory;
        private long dmaAddress;
        private final long size;
        private int pageShift = MIN_PAGE_SHIFT;
        private int dmaMappingShift = -1;
        private int node;
        private boolean recyclable = true;
        private int bufferId;

        private Builder(String provider, MemorySegment memory, long dmaAddress, long size) {
            this.provider = Objects.requireNonNull(provider, "provider");
            this.memory = memory;
            this.dmaAddress = dmaAddress;
            this.size = size;
        }

        /**
         * The IOVA the device uses for the first page, when the provider maps the memory itself
         * somewhere else than at its CPU address.
         */
        public Builder dmaAddress(long iova) {
            this.dmaAddress = iova;
            return this;
        }

        /** log2 of the page size the area is carved into; default 12 (4 KiB). */
        public Builder pageShift(int pageShift) {
            this.pageShift = pageShift;
            return this;
        }

        /** log2 of one IOMMU mapping; default: the page size (each page mapped on its own). */
        public Builder dmaMappingShift(int dmaMappingShift) {
            this.dmaMappingShift = dmaMappingShift;
            return this;
        }

        public Builder node(int node) {
            this.node = node;
            return this;
        }

        public Builder recyclable(boolean recyclable) {
            this.recyclable = recyclable;
            return this;
        }

        /** The provider's id of the buffer the area starts, e.g. a dma-buf id; default 0. */
        public Builder bufferId(int bufferId) {
            this.bufferId = bufferId;
            return this;
        }

        public MemoryArea build() {
            Checks.inRange("pageShift", pageShift, MIN_PAGE_SHIFT, MAX_PAGE_SHIFT);
            long pageSize = 1L << pageShift;
            if (size <= 0 || (size & (pageSize - 1)) != 0 || (size >>> pageShift) > Integer.MAX_VALUE) {
                throw Checks.invalid("size", size, "a positive multiple of the page size " + pageSize);
            }
            if ((dmaAddress & (pageSize - 1)) != 0) {
                throw Checks.invalid("dmaAddress", "0x" + Long.toHexString(dmaAddress),
                        "aligned to the page size " + pageSize);
            }
            if (dmaAddress < 0 || dmaAddress + size < 0) {
                // A device address space is at most 63 bits here: the last page's address must not wrap.
                throw Checks.invalid("dmaAddress", "0x" + Long.toHexString(dmaAddress) + " with size " + size,
                        "an area that ends at or below 0x7fffffffffffffff");
            }
            if (dmaMappingShift == -1) {
                dmaMappingShift = pageShift;
            }
            if (dmaMappingShift < pageShift || dmaMappingShift > 40) {
                throw Checks.invalid("dmaMappingShift", dmaMappingShift, pageShift + "..40, at least the page shift");
            }
            Checks.atLeast("node", node, 0);
            Checks.atLeast("bufferId", bufferId, 0);
            return new MemoryArea(this);
        }
    }
}

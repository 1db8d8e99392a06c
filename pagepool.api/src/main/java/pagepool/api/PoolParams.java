package pagepool.api;

import java.util.Objects;

/**
 * What a driver asks of a page pool (the kernel's {@code struct page_pool_params}). Built with
 * {@link #builder()}; {@link Builder#build()} rejects each invalid value or combination with a
 * message naming the value and what was expected.
 */
public final class PoolParams {

    /** The pool keeps its pages DMA-mapped for the device ({@code PP_FLAG_DMA_MAP}). */
    public static final int DMA_MAP = 1;
    /** The pool syncs pages for the device on recycle ({@code PP_FLAG_DMA_SYNC_DEV}); needs DMA_MAP and max_len. */
    public static final int DMA_SYNC_DEV = 1 << 1;
    /** The driver can handle unreadable netmems, e.g. with header split ({@code PP_FLAG_ALLOW_UNREADABLE_NETMEM}). */
    public static final int ALLOW_UNREADABLE_NETMEM = 1 << 2;
    static final int ALL_FLAGS = DMA_MAP | DMA_SYNC_DEV | ALLOW_UNREADABLE_NETMEM;

    /** Largest page order: 4 KiB << 10 = 4 MiB, as Linux's MAX_PAGE_ORDER. */
    public static final int MAX_ORDER = 10;
    /** Default recycle ring size. */
    public static final int DEFAULT_POOL_SIZE = 1024;
    /** Largest recycle ring size. */
    public static final int MAX_POOL_SIZE = 16384;
    /** Most pages of one contiguous pool: 4 GiB of 4 KiB pages. */
    public static final int MAX_CONTIGUOUS_PAGES = 1 << 20;

    /** No node preference ({@code NUMA_NO_NODE}). */
    public static final int NO_NODE = -1;

    private final int flags;
    private final int order;
    private final int poolSize;
    private final int maxLen;
    private final int offset;
    private final int nid;
    private final QueueId queue;
    private final int contiguousPages;

    private PoolParams(Builder b) {
        this.flags = b.flags;
        this.order = b.order;
        this.poolSize = b.poolSize;
        this.maxLen = b.maxLen;
        this.offset = b.offset;
        this.nid = b.nid;
        this.queue = b.queue;
        this.contiguousPages = b.contiguousPages;
    }

    public static Builder builder() {
        return new Builder();
    }

    public int flags() {
        return flags;
    }

    public boolean dmaMap() {
        return (flags & DMA_MAP) != 0;
    }

    public boolean dmaSyncDev() {
        return (flags & DMA_SYNC_DEV) != 0;
    }

    public boolean allowUnreadable() {
        return (flags & ALLOW_UNREADABLE_NETMEM) != 0;
    }

    /** Page order: each page is 4 KiB << order. */
    public int order() {
        return order;
    }

    public int pageSize() {
        return 4096 << order;
    }

    /** Capacity of the recycle ring. */
    public int poolSize() {
        return poolSize;
    }

    /** Bytes the device may write into a page, synced for the device on recycle. */
    public int maxLen() {
        return maxLen;
    }

    /** Offset in the page where the device starts writing. */
    public int offset() {
        return offset;
    }

    /** Preferred node of the pages, or {@link #NO_NODE}. */
    public int nid() {
        return nid;
    }

    /** The RX queue the pool serves, or null for a pool outside any queue. */
    public QueueId queue() {
        return queue;
    }

    /**
     * 0, or the number of pages the pool's memory is limited to, carved from one contiguous range
     * of virtual memory: a driver that registers the pool's memory with the device as one range
     * (an AF_XDP UMEM) asks for it. A provider that cannot give it refuses the pool at init; one
     * that can gives no page outside the range.
     *
     * @since 1.5
     */
    public int contiguousPages() {
        return contiguousPages;
    }

    /** A builder holding these values, to derive changed parameters. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.flags = flags;
        b.order = order;
        b.poolSize = poolSize;
        b.maxLen = maxLen;
        b.offset = offset;
        b.nid = nid;
        b.queue = queue;
        b.contiguousPages = contiguousPages;
        return b;
    }

    @Override
    public String toString() {
        return "PoolParams[flags=0x" + Integer.toHexString(flags) + " order=" + order + " poolSize=" + poolSize
                + " maxLen=" + maxLen + " offset=" + offset + " nid=" + nid + " queue=" + queue
                + (contiguousPages == 0 ? "" : " contiguousPages=" + contiguousPages) + "]";
    }

    /** Builds {@link PoolParams}. Defaults: no flags, order 0, pool size 1024, no node, no queue. */
    public static final class Builder {
        private int flags;
        private int order;
        private int poolSize = DEFAULT_POOL_SIZE;
        private int maxLen;
        private int offset;
        private int nid = NO_NODE;
        private QueueId queue;
        private int contiguousPages;

        private Builder() {
        }

        /** A combination of {@link #DMA_MAP}, {@link #DMA_SYNC_DEV}, {@link #ALLOW_UNREADABLE_NETMEM}. */
        public Builder flags(int flags) {
            this.flags = flags;
            return this;
        }

        public Builder order(int order) {
            this.order = order;
            return this;
        }

        public Builder poolSize(int poolSize) {
            this.poolSize = poolSize;
            return this;
        }

        public Builder maxLen(int maxLen) {
            this.maxLen = maxLen;
            return this;
        }

        public Builder offset(int offset) {
            this.offset = offset;
            return this;
        }

        public Builder nid(int nid) {
            this.nid = nid;
            return this;
        }

        public Builder queue(QueueId queue) {
            this.queue = queue;
            return this;
        }

        public Builder queue(String device, int index) {
            return queue(new QueueId(device, index));
        }

        /**
         * Limits the pool to {@code pages} pages from one contiguous range of memory; 0 (the
         * default) for no such need.
         *
         * @since 1.5
         */
        public Builder contiguousPages(int pages) {
            this.contiguousPages = pages;
            return this;
        }

        /**
         * Checks the values the way {@code page_pool_init()} does.
         *
         * @throws IllegalArgumentException naming the first bad value and what was expected
         */
        public PoolParams build() {
            if ((flags & ~ALL_FLAGS) != 0) {
                throw Checks.invalid("flags", "0x" + Integer.toHexString(flags),
                        "a combination of DMA_MAP 0x1, DMA_SYNC_DEV 0x2, ALLOW_UNREADABLE_NETMEM 0x4; unknown bits 0x"
                                + Integer.toHexString(flags & ~ALL_FLAGS));
            }
            Checks.inRange("order", order, 0, MAX_ORDER);
            Checks.inRange("poolSize", poolSize, 1, MAX_POOL_SIZE);
            int pageSize = 4096 << order;
            if (maxLen < 0 || maxLen > pageSize) {
                throw Checks.invalid("maxLen", maxLen, "0.." + pageSize + ", the page size at order " + order);
            }
            if (offset < 0 || (long) offset + maxLen > pageSize) { // in long: offset near MAX_VALUE must not wrap
                throw Checks.invalid("offset", offset, "0.." + (pageSize - maxLen) + ", so that offset + maxLen "
                        + maxLen + " fits the page of " + pageSize);
            }
            if ((flags & DMA_SYNC_DEV) != 0) {
                if ((flags & DMA_MAP) == 0) {
                    throw Checks.invalid("flags", "DMA_SYNC_DEV without DMA_MAP",
                            "DMA_MAP too, a page must be mapped to be synced for the device");
                }
                if (maxLen == 0) {
                    throw Checks.invalid("maxLen", "0 with DMA_SYNC_DEV",
                            "1.." + pageSize + ", the number of bytes to sync for the device");
                }
            }
            if (contiguousPages < 0 || contiguousPages > MAX_CONTIGUOUS_PAGES) {
                throw Checks.invalid("contiguousPages", contiguousPages, "0.." + MAX_CONTIGUOUS_PAGES
                        + ", 0 for memory from anywhere");
            }
            if (nid < NO_NODE) {
                throw Checks.invalid("nid", nid, "-1 for no node, or >= 0");
            }
            return new PoolParams(this);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PoolParams p && p.flags == flags && p.order == order && p.poolSize == poolSize
                && p.maxLen == maxLen && p.offset == offset && p.nid == nid && Objects.equals(p.queue, queue)
                && p.contiguousPages == contiguousPages;
    }

    @Override
    public int hashCode() {
        return Objects.hash(flags, order, poolSize, maxLen, offset, nid, queue, contiguousPages);
    }
}

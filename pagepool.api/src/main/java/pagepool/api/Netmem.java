package pagepool.api;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One buffer handed to the NIC: a page of {@link #size()} bytes, either readable host memory or
 * unreadable device memory (the kernel's {@code netmem_ref}: a page or a {@code net_iov}).
 *
 * <p>Netmems are long-lived handles, reused across allocations: a driver must not keep one after
 * giving it back. Only page pool implementations create them (from a {@link MemoryArea}); the
 * pool's own bookkeeping (owner, reference count) lives in its subclass.
 */
@ProviderType
public abstract class Netmem {

    private final MemoryArea area;
    private final int index;

    /**
     * @param area the memory this page belongs to
     * @param index the page's index in the area
     */
    protected Netmem(MemoryArea area, int index) {
        Checks.inRange("index", index, 0, area.pageCount() - 1);
        this.area = area;
        this.index = index;
    }

    public final MemoryArea area() {
        return area;
    }

    /** The page's index in its {@link #area()}. */
    public final int index() {
        return index;
    }

    /** DMA address (IOVA) the device writes to. */
    public final long dmaAddress() {
        return area.dmaAddress() + ((long) index << area.pageShift());
    }

    /** Page size in bytes. */
    public final int size() {
        return 1 << area.pageShift();
    }

    public final boolean isReadable() {
        return area.isReadable();
    }

    /**
     * The page's generation: it changes each time a pool hands the page out. A holder that keeps
     * it with the page and gives both back ({@link PagePool#release(Netmem, int)}) has a release
     * of a page it no longer holds (a stale reference) refused instead of freeing someone else's
     * page. 0 for netmems outside a pool.
     */
    public int generation() {
        return 0;
    }

    /** Name of the memory provider that owns this page. */
    public final String provider() {
        return area.provider();
    }

    /**
     * The page's bytes.
     *
     * @throws UnreadableNetmemException when the page is device memory
     */
    public final MemorySegment segment() {
        if (!area.isReadable()) {
            throw new UnreadableNetmemException(this + " is unreadable (device memory): the CPU cannot read or write it");
        }
        return area.memory().asSlice((long) index << area.pageShift(), size());
    }

    @Override
    public String toString() {
        return "netmem[" + area.provider() + " dma=0x" + Long.toHexString(dmaAddress()) + "]";
    }
}

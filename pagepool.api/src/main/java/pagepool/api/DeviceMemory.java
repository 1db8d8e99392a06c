package pagepool.api;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The device's view of an unreadable memory area: how a NIC DMA-writes into device memory and
 * how the device that owns it (a GPU, in devmem TCP) reads it. The CPU path of the page pool
 * never gets here: {@link Netmem#segment()} refuses unreadable memory. Implemented by providers
 * of device memory; offsets are bytes from the start of the area.
 */
@ConsumerType
public interface DeviceMemory {

    /** Id of the device buffer (the dma-buf id), as consumers see it in frag descriptors. */
    int id();

    /** The device writes {@code length} bytes of {@code src} at {@code offset}. */
    void write(long offset, MemorySegment src, long srcOffset, long length);

    /** The device reads {@code length} bytes at {@code offset} into {@code dst}. */
    void read(long offset, MemorySegment dst, long dstOffset, long length);
}

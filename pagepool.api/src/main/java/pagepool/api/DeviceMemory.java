package pagepool.api;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The device's view of an unreadable memory area: how a NIC DMA-writes into device memory and
 * how the device that owns it (a GPU, in devmem TCP) reads it. Implemented by providers of device
 * memory and given to the pool with {@link pagepool.api.provider.PoolContext#carve(MemoryArea,
 * DeviceMemory)}; the pool lets only its driver reach it, one page of its own at a time, with
 * offsets checked ({@link PagePool#deviceWrite}, {@link PagePool#deviceRead}). The CPU path never
 * gets here: {@link Netmem#segment()} refuses unreadable memory. Offsets are bytes from the start
 * of the area.
 */
@ConsumerType
public interface DeviceMemory {

    /** The device writes {@code length} bytes of {@code src} at {@code offset}. */
    void write(long offset, MemorySegment src, long srcOffset, long length);

    /** The device reads {@code length} bytes at {@code offset} into {@code dst}. */
    void read(long offset, MemorySegment dst, long dstOffset, long length);
}

package pagepool.provider.devmem;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import pagepool.api.Checks;
import pagepool.api.DeviceMemory;

/**
 * A simulated dma-buf: device memory that lives off-heap but is reachable only through its
 * {@link DeviceMemory} view (the NIC writing, the owning device reading), never as a segment a
 * netmem hands out, and the view goes only to the page pool, which hands it to nobody but the
 * queue's driver. The device sees the buffer at an IOVA of its own, not at the host address of
 * the memory that simulates it. Its memory is freed when it is destroyed and no chunk of it is in use.
 */
final class DmaBuf implements DeviceMemory {

    final int id;
    final long size;
    final String owner;
    private final long iova;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory;
    /** The binding using the buffer, or 0. Guarded by the registry's state lock. */
    long binding;
    private boolean freed;

    /**
     * @param iova where the device sees the buffer
     * @throws OutOfMemoryError when the host cannot back the simulated memory
     */
    DmaBuf(int id, long size, String owner, long iova) {
        if (size <= 0 || size % 4096 != 0) {
            throw Checks.invalid("size", size, "a positive multiple of 4096");
        }
        this.id = id;
        this.size = size;
        this.owner = owner;
        this.iova = iova;
        try {
            this.memory = arena.allocate(size, 4096);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** The buffer's IOVA: the device's address of its first byte. */
    long dmaAddress() {
        return iova;
    }

    @Override
    public void write(long offset, MemorySegment src, long srcOffset, long length) {
        MemorySegment.copy(src, srcOffset, memory, offset, length);
    }

    @Override
    public void read(long offset, MemorySegment dst, long dstOffset, long length) {
        MemorySegment.copy(memory, offset, dst, dstOffset, length);
    }

    /** Gives the memory back; once. */
    synchronized void free() {
        if (!freed) {
            freed = true;
            arena.close();
        }
    }
}

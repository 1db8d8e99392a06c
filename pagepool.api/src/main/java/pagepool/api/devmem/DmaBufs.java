package pagepool.api.devmem;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Device-memory buffers and their bindings to RX queues. Bundle-scoped: a buffer or binding is
 * changed only by the bundle that made it; another bundle gets an error naming the owner.
 */
@ProviderType
public interface DmaBufs {

    /**
     * Creates a device-memory buffer.
     *
     * @throws IllegalArgumentException when the size is not a positive multiple of 4096, or more
     *         than the device memory left
     */
    DmaBufInfo create(long size);

    /**
     * Binds a buffer to RX queues of a device ({@code bind-rx}): the buffer is carved into 4 KiB
     * net_iovs and the queues restart onto it.
     *
     * @throws IllegalArgumentException for an unknown buffer, another bundle's buffer, a buffer
     *         already bound, an unknown device, a queue out of range or already bound, or a device
     *         without header split
     */
    DevmemBindingInfo bind(int buffer, String device, List<Integer> queues);

    /**
     * Unbinds: its queues restart onto the default provider; the buffer is free again once the
     * old pools have drained.
     *
     * @return false when there is no such binding
     * @throws IllegalArgumentException for another bundle's binding
     */
    boolean unbind(long binding);

    /**
     * Destroys a buffer, unbinding it first; its memory is freed once its chunks are back.
     *
     * @return false when there is none
     * @throws IllegalArgumentException for another bundle's buffer
     */
    boolean destroy(int buffer);

    List<DmaBufInfo> buffers();

    List<DevmemBindingInfo> bindings();
}

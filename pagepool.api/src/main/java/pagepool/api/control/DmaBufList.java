package pagepool.api.control;

import java.util.List;

import pagepool.api.devmem.DevmemBindingInfo;
import pagepool.api.devmem.DmaBufInfo;

/**
 * Device-memory buffers and their bindings to queues. A dma-buf binding has ids of its own,
 * apart from the bindings of queues to providers.
 */
public record DmaBufList(List<DmaBufInfo> buffers, List<DevmemBindingInfo> bindings) {

    public DmaBufList {
        buffers = List.copyOf(buffers);
        bindings = List.copyOf(bindings);
    }
}

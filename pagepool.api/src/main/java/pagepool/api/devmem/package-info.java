/**
 * Device memory as RX buffers, after Linux devmem TCP: dma-buf-like buffers of device memory,
 * bound to RX queues of a device ({@code bind-rx}), carved into page-sized net_iovs that the CPU
 * cannot read. {@link pagepool.api.devmem.DmaBufs} is bundle-scoped: the buffers and bindings a
 * bundle makes are released when it stops using the service.
 */
@Export
@Version("1.0.0")
package pagepool.api.devmem;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

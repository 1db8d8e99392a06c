/**
 * The page pool as a driver sees it.
 *
 * <p>A driver asks a {@link pagepool.api.PagePoolFactory} for one {@link pagepool.api.PagePool}
 * per RX queue, allocates {@link pagepool.api.Netmem} buffers from it in its NAPI loop, and gives
 * them back with {@link pagepool.api.PagePool#recycleDirect} (from that loop) or
 * {@link pagepool.api.PagePool#release} (from any thread). Which memory backs the pool is decided by
 * configuration, not by the driver: the same driver code runs on ordinary pages, huge pages or
 * device memory.
 */
@Export
@Version("1.5.0")
package pagepool.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

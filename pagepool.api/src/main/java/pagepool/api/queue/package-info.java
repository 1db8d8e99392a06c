/**
 * The queue-management SPI a driver implements, mirroring Linux {@code netdev_queue_mgmt_ops}:
 * the engine restarts one RX queue onto new memory without the driver knowing which provider
 * backs it.
 */
@Export
@Version("2.0.0")
package pagepool.api.queue;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

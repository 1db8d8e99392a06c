/**
 * The memory-provider SPI, mirroring the kernel's {@code struct memory_provider_ops}.
 *
 * <p>A provider is an OSGi service implementing {@link pagepool.api.provider.MemoryProvider},
 * registered with the {@value pagepool.api.provider.MemoryProvider#NAME} property. The page pool
 * calls it on its slow path only: the hot path never leaves the pool's cache and ring.
 */
@Export
@Version("1.0.0")
package pagepool.api.provider;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * The conformance kit: the promises of the provider SPI ({@link pagepool.tck.ProviderConformance},
 * inside a framework {@link pagepool.tck.ProviderBundleConformance}) and of a driver's queue ops
 * ({@link pagepool.tck.DriverConformance}, inside a framework
 * {@link pagepool.tck.DriverBundleConformance}), each checked by name, reported with the values that
 * broke it ({@link pagepool.tck.ConformanceReport}).
 */
@Export
@Version("1.1.0")
package pagepool.tck;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

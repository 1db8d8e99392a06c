/**
 * The contract of configuration refusals: a value that cannot apply is refused with one line
 * naming the key, the value and what was expected, the last good configuration stays, and the
 * refusal is registered as a {@link pagepool.api.config.ConfigProblem} service for as long as it
 * stands, so operators list it ({@code pp:problems}) instead of reading a stack trace. The helpers
 * that read values and register refusals are not a contract: they live in {@code pagepool.kit},
 * which each bundle embeds (2.0: they left this package).
 */
@Export
@Version("2.0.0")
package pagepool.api.config;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

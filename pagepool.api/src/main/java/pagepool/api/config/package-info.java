/**
 * Configuration as pagepool bundles treat it: a value that cannot apply is refused with one line
 * naming the key, the value and what was expected ({@link pagepool.api.config.ConfigValues}), the
 * last good configuration stays, and the refusal is registered as a
 * {@link pagepool.api.config.ConfigProblem} service for as long as it stands, so operators list
 * it ({@code pp:problems}) instead of reading a stack trace.
 */
@Export
@Version("1.0.0")
package pagepool.api.config;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * The control plane: one typed API for everything an operator reads and does, as netlink is
 * Linux's. The shell renders it as text, the HTTP API serves it as JSON, and the client reaches
 * the shell over the control socket; none of them checks input or builds another's command
 * lines. Checks and one-line refusals live behind {@link pagepool.api.control.Control}.
 *
 * <p>The records are the wire model too: their component names, in kebab-case
 * ({@code inflightMem} becomes {@code inflight-mem}), are the JSON field names, following the
 * kernel's netdev YNL spec where it names the same thing.
 */
@Export
@Version("1.0.0")
package pagepool.api.control;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * Binding RX queues to memory providers, and looking at devices, queues, providers and pools:
 * the operator's view, like {@code ynl netdev queue-get / page-pool-get / bind-rx}.
 *
 * <p>{@link pagepool.api.binding.PoolBindings} is a bundle-scoped service: the bindings a bundle
 * makes through it go away when that bundle stops using it.
 */
@Export
@Version("1.3.0")
package pagepool.api.binding;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

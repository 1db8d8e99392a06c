/**
 * Datagrams received into page-pool pages, for applications: a {@link pagepool.api.datagram.DatagramConsumer}
 * service gets each datagram where the kernel wrote it (a page of the queue's pool, an offset and
 * a length), no copy and no allocation per datagram, and gives the page back the pool's way. A
 * {@link pagepool.api.datagram.DatagramSender} sends verifiable traffic to test a receiver.
 */
@Export
@Version("1.0.0")
package pagepool.api.datagram;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

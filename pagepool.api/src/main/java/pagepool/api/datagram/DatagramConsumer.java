package pagepool.api.datagram;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * An application that receives datagrams, registered as a service. A device delivers each
 * datagram of a queue to one consumer: the best-ranked whose {@link #DEVICE} property names the
 * device (or that has none); with no consumer, the device verifies the datagram itself and
 * recycles its page.
 */
@ConsumerType
public interface DatagramConsumer {

    /** Service property: the device whose datagrams it wants; absent for every device. */
    String DEVICE = "datagram.device";

    /**
     * A datagram arrived. Called on the queue's thread, which receives nothing else meanwhile:
     * return soon. {@code datagram} is valid only during the call; its page is recycled when the
     * call returns, unless the consumer {@link Datagram#keep() keeps} it. What the consumer throws
     * is counted against the queue (consumer-errors), and the page recycled unless it was kept.
     */
    void receive(Datagram datagram);
}

package pagepool.api.datagram;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ProviderType;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.QueueId;

/**
 * One received datagram, where the kernel wrote it: {@link #length()} bytes at {@link #offset()}
 * in {@link #page()}, a page of the queue's pool. A view the device reuses for the next datagram:
 * read it during {@link DatagramConsumer#receive}, copy it out, or {@link #keep()} its page.
 */
@ProviderType
public interface Datagram {

    QueueId queue();

    /** The page holding the datagram. */
    Netmem page();

    /** Where the datagram starts in the page. */
    int offset();

    int length();

    /** The sender's IPv4 address, big-endian in an int (127.0.0.1 is {@code 0x7f000001}). */
    int sourceAddress();

    int sourcePort();

    /** The datagram's bytes: a view of the page, valid until the page goes back to the pool. */
    MemorySegment data();

    /** Copies the datagram into {@code dst} at {@code at}; returns its length. */
    int copyTo(byte[] dst, int at);

    /**
     * Keeps the page past the call: it is the consumer's until it gives it back, from any thread,
     * with {@code pool().release(page(), generation())}. Take the three values during the call.
     */
    void keep();

    /** The pool the page goes back to. */
    PagePool pool();

    /** The page's generation when it was handed to the consumer, for the release that gives it back. */
    int generation();
}

package pagepool.kit.driver;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.QueueId;
import pagepool.api.datagram.Datagram;

/** The view of the datagram a queue delivers to a consumer; the queue's thread reuses it for the next one. */
public final class DatagramView implements Datagram {

    private final QueueId queue;
    private MemorySegment memory;
    private Netmem page;
    private PagePool pool;
    private long pageOffset;
    private int offset;
    private int length;
    private int sourceAddress;
    private int sourcePort;
    private int generation;
    private boolean kept;

    public DatagramView(QueueId queue) {
        this.queue = queue;
    }

    /** Points the view at a datagram; {@code memory} is the page's area, {@code pageOffset} where the page starts. */
    public void set(PagePool pool, Netmem page, MemorySegment memory, long pageOffset, int offset, int length, int address,
            int port) {
        this.pool = pool;
        this.page = page;
        this.memory = memory;
        this.pageOffset = pageOffset;
        this.offset = offset;
        this.length = length;
        this.sourceAddress = address;
        this.sourcePort = port;
        this.generation = page.generation();
        this.kept = false;
    }

    /** Whether the consumer kept the page (took a reference); the view forgets the datagram either way. */
    public boolean clear() {
        boolean k = kept;
        page = null;
        pool = null;
        memory = null;
        return k;
    }

    @Override
    public QueueId queue() {
        return queue;
    }

    @Override
    public Netmem page() {
        return page;
    }

    @Override
    public int offset() {
        return offset;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int sourceAddress() {
        return sourceAddress;
    }

    @Override
    public int sourcePort() {
        return sourcePort;
    }

    @Override
    public MemorySegment data() {
        return memory.asSlice(pageOffset + offset, length);
    }

    @Override
    public int copyTo(byte[] dst, int at) {
        MemorySegment.copy(memory, ValueLayout.JAVA_BYTE, pageOffset + offset, dst, at, length);
        return length;
    }

    @Override
    public void keep() {
        if (page == null) {
            throw new IllegalStateException("datagram: keep() after receive returned (expected: during the call)");
        }
        if (!kept) {
            pool.ref(page); // the consumer's own reference: the driver still recycles its one
            kept = true;
        }
    }

    @Override
    public PagePool pool() {
        return pool;
    }

    @Override
    public int generation() {
        return generation;
    }

    @Override
    public String toString() {
        return "datagram of " + length + " bytes from " + (sourceAddress >>> 24) + "." + ((sourceAddress >>> 16) & 0xff)
                + "." + ((sourceAddress >>> 8) & 0xff) + "." + (sourceAddress & 0xff) + ":" + sourcePort + " on " + queue;
    }
}

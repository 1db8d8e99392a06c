package pagepool.kit.driver;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;

import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.QueueId;
import pagepool.api.datagram.DatagramConsumer;
import pagepool.kit.traffic.Traffic;

/**
 * What a queue does with a datagram in a page of its pool: hands it to the device's consumer
 * ({@link Slot}), or verifies it ({@link Traffic#verify}) when there is none, and counts either
 * way in the queue's counters named {@code packets}, {@code bytes}, {@code delivered},
 * {@code consumer-errors}, {@code kept}, {@code verified}, {@code corrupt}, {@code unverifiable}.
 * The page's recycling stays the caller's (a buffer may hold several datagrams). The queue's
 * thread only: the view is reused.
 */
public final class DatagramDelivery {

    /** A device's consumer now, and its failures, logged once per kind (each one is counted). */
    public static final class Slot {
        private static final System.Logger LOG = System.getLogger(DatagramDelivery.class.getName());
        private final String device;
        private volatile DatagramConsumer consumer;
        private volatile String lastError;

        public Slot(String device) {
            this.device = device;
        }

        /** Sets the application datagrams go to; null: the device verifies them itself. */
        public void set(DatagramConsumer c) {
            consumer = c;
        }

        public DatagramConsumer get() {
            return consumer;
        }

        void failed(DatagramConsumer c, Throwable t) {
            String why = c.getClass().getName() + " threw " + t.getClass().getName();
            if (!why.equals(lastError)) {
                LOG.log(Level.WARNING, device + ": a datagram consumer threw; counted, the page recycled: " + why, t);
            }
            lastError = why;
        }
    }

    private final Slot slot;
    private final QueueCounters counters;
    private final DatagramView view;
    private final int packets;
    private final int bytes;
    private final int delivered;
    private final int consumerErrors;
    private final int kept;
    private final int verified;
    private final int corrupt;
    private final int unverifiable;

    public DatagramDelivery(QueueId queue, QueueCounters counters, Slot slot) {
        this.slot = slot;
        this.counters = counters;
        this.view = new DatagramView(queue);
        this.packets = counters.index("packets");
        this.bytes = counters.index("bytes");
        this.delivered = counters.index("delivered");
        this.consumerErrors = counters.index("consumer-errors");
        this.kept = counters.index("kept");
        this.verified = counters.index("verified");
        this.corrupt = counters.index("corrupt");
        this.unverifiable = counters.index("unverifiable");
    }

    /**
     * Delivers the {@code length} bytes at {@code offset} of the page that starts at {@code page}
     * in {@code memory}, sent from {@code address:port}.
     */
    public void deliver(PagePool pool, Netmem nm, MemorySegment memory, long page, int offset, int length, int address,
            int port) {
        DatagramConsumer c = slot.get();
        if (c != null) {
            view.set(pool, nm, memory, page, offset, length, address, port);
            try {
                c.receive(view);
                counters.add(delivered, 1);
            } catch (Throwable t) {
                counters.add(consumerErrors, 1);
                slot.failed(c, t);
            }
            if (view.clear()) {
                counters.add(kept, 1);
            }
        } else {
            int v = Traffic.verify(memory, page + offset, length);
            counters.add(v == Traffic.VERIFIED ? verified : v == Traffic.CORRUPT ? corrupt : unverifiable, 1);
        }
        // Counted last: a reader that sees the datagram in packets sees what became of it too.
        counters.add(packets, 1);
        counters.add(bytes, length);
    }
}

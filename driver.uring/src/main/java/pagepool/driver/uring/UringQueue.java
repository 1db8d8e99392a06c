package pagepool.driver.uring;

import java.lang.foreign.Arena;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import pagepool.api.PagePool;
import pagepool.api.queue.QueueOperationException;
import pagepool.kit.driver.NapiLoop;
import pagepool.kit.driver.QueueCounters;
import pagepool.kit.driver.RxQueue;
import pagepool.kit.linux.WakeFd;

/**
 * One UDP RX queue: a socket and the thread that receives from it, its NAPI context, on the kit's
 * queue state machine. The thread owns the queue's {@link ReceivePath} (an io_uring set up
 * {@code SINGLE_ISSUER}: only it may enter the ring or register buffer rings) and its memory;
 * every queue operation runs on it between two batches of completions, woken by an eventfd.
 */
final class UringQueue extends RxQueue<UringMem> implements NapiLoop.Poll {

    private static final long WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final UringDevice device;
    private final boolean ioUring;
    private final boolean gro;
    private final int socket;
    private final UringSettings settings;
    private final NapiLoop loop;
    // ---- owned by the queue's thread ----------------------------------------------------------------
    private Arena arena;
    private Sys sys;
    private int eventfd = -1;
    /** The eventfd for other threads' wakes: written and closed under one lock. */
    private WakeFd wakeFd;
    private volatile ReceivePath path;

    UringQueue(UringDevice device, int index, int socket, UringSettings settings, boolean ioUring, boolean gro) {
        super(device, index, new QueueCounters(UringCounter.class));
        this.device = device;
        this.socket = socket;
        this.settings = settings;
        this.ioUring = ioUring;
        this.gro = gro && ioUring;
        this.loop = new NapiLoop("napi-" + device.name() + "-" + index, this);
        runOn(loop);
    }

    // ---- the kit's hooks --------------------------------------------------------------------------------

    /** The pool is made on the caller's thread; the path's memory for it is filled on the queue's. */
    @Override
    protected UringMem allocate() {
        PagePool pool = device.createPool(index);
        try {
            return receivePath().allocate(index, pool);
        } catch (RuntimeException | Error e) {
            pool.close();
            throw e;
        }
    }

    @Override
    protected void fill(UringMem m) throws QueueOperationException {
        path.fill(m);
    }

    @Override
    protected void stopping(UringMem old, boolean receiveFirst) throws QueueOperationException {
        path.stopping(old); // the kernel's receive ends with what it delivered: nothing to drop first
    }

    @Override
    protected void starting(UringMem m) {
        path.starting(m);
    }

    @Override
    protected void swapping(UringMem old, UringMem m) {
        path.swapping(old, m);
    }

    /** The ring is unregistered by the thread that registered it. */
    @Override
    protected boolean letsGoOnLoop() {
        return true;
    }

    @Override
    protected void letGo(UringMem m) {
        path.letGo(m);
    }

    @Override
    protected void free(UringMem m) {
        m.free(); // the kernel let go of every buffer: the receive ended, the ring unregistered or closed
    }

    private ReceivePath receivePath() {
        ReceivePath p = path;
        if (p == null) {
            throw new IllegalStateException("queue " + id + " is closed");
        }
        return p;
    }

    /**
     * The kernel's drops for the queue's socket ({@code sk_drops}): every datagram sent to the
     * queue was received ({@code packets}) or dropped ({@code drops}). With GRO the kernel counts
     * a dropped coalesced packet once, whatever number of datagrams it held: {@code drops} is then
     * a lower bound of the datagrams lost.
     */
    @Override
    protected void moreStats(Map<String, Long> m) {
        m.put("drops", device.kernelDrops(index));
        UringMem mem = published();
        m.put("posted", mem == null ? 0L : (long) mem.posted());
        m.put("io-uring", ioUring ? 1L : 0L);
    }

    // ---- the thread ------------------------------------------------------------------------------------

    @Override
    public void setUp() {
        arena = Arena.ofConfined();
        sys = new Sys(arena);
        eventfd = sys.eventfd();
        wakeFd = device.wakeFd(eventfd);
        loop.wakeWith(wakeFd::signal);
        Delivery delivery = new Delivery(device, id, counters);
        ReceivePath p = ioUring ? new IoUringReceive(this, socket, settings, gro, arena, sys, delivery)
                : new RecvmmsgReceive(this, socket, settings, arena, sys, delivery);
        p.setUp(eventfd);
        path = p;
    }

    @Override
    public void poll() {
        path.receive(mem(), failed(), WAIT_NANOS); // a task's wake ends the wait
    }

    @Override
    public void tearDown() {
        try {
            UringMem m = mem();
            if (m != null && path != null) {
                path.letGo(m);
                m.free();
            }
            if (path != null) {
                path.tearDown();
            }
        } finally {
            path = null; // memory asked for from now on is refused: the queue is closed
            if (wakeFd != null) {
                loop.wakeWith(null);
                wakeFd.close(); // after this no wake writes to the number, whoever reuses it
            } else if (eventfd >= 0) {
                device.closeEventfd(eventfd);
            }
            eventfd = -1;
            if (arena != null) {
                arena.close();
            }
        }
    }
}

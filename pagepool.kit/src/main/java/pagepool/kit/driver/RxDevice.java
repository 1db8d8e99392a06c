package pagepool.kit.driver;

import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

import pagepool.api.Checks;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueDebug;
import pagepool.api.queue.QueueMemory;
import pagepool.api.queue.QueueMgmtOps;
import pagepool.api.queue.QueueOperationException;

/**
 * What every device of a driver built on the kit is: its {@link RxQueue}s behind the
 * queue-management ops ({@link #queueOps()}), its administrative and carrier state, its reset mode and page hold
 * ({@link QueueDebug}). A driver's device adds its specifics: how its queues are made, what
 * {@link #details()} says, and how it closes ({@link #closeQueues()} first).
 *
 * @param <Q> the driver's queue
 * @param <M> its queue memory
 */
public abstract class RxDevice<Q extends RxQueue<M>, M extends QueueMemory> implements NetDevice, QueueDebug,
        AutoCloseable {

    private static final System.Logger LOG = System.getLogger(RxDevice.class.getName());

    private final String name;
    private final Class<M> memoryType;
    private Q[] queues;
    private final QueueMgmtOps ops = new Ops();
    private volatile boolean carrier;
    private volatile boolean adminUp;
    private volatile ResetMode resetMode = ResetMode.POOL;
    /** NAPI ids handed to queues' NAPI contexts, as the kernel numbers them (from 1). */
    private final AtomicInteger napiIds = new AtomicInteger();

    protected RxDevice(String name, Class<M> memoryType, boolean adminUp, boolean carrier) {
        this.name = name;
        this.memoryType = memoryType;
        this.adminUp = adminUp;
        this.carrier = carrier;
    }

    /** Sets the device's queues; once, in the driver's constructor. */
    protected final void queues(Q[] all) {
        this.queues = all;
    }

    /** The queues, for the driver's own loops; null entries where construction stopped early. */
    protected final Q[] queues() {
        return queues;
    }

    // ---- NetDevice -------------------------------------------------------------------------------------

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int rxQueueCount() {
        return queues.length;
    }

    @Override
    public final QueueMgmtOps queueOps() {
        return ops;
    }

    /** The queue-management ops: each queue's state machine. */
    private final class Ops implements QueueMgmtOps {

        @Override
        public QueueMemory memAlloc(int queue) throws QueueOperationException {
            return queue(queue).memAlloc();
        }

        @Override
        public QueueMemory stop(int queue) throws QueueOperationException {
            return queue(queue).stop();
        }

        @Override
        public void start(int queue, QueueMemory memory) throws QueueOperationException {
            queue(queue).start(own(queue, memory));
        }

        /**
         * A running queue swaps between two polls, with a new NAPI context in {@link ResetMode#NAPI};
         * only {@link ResetMode#NAPI_STOPPED_FIRST} stops it first, and drops what arrives meanwhile.
         */
        @Override
        public boolean canSwap(int queue) {
            return swapsWithoutBreak() && resetMode != ResetMode.NAPI_STOPPED_FIRST && queueOrThrow(queue).running();
        }

        @Override
        public QueueMemory swap(int queue, QueueMemory memory) throws QueueOperationException {
            return queue(queue).swap(own(queue, memory));
        }

        @Override
        public void memFree(QueueMemory memory) {
            if (memoryType.isInstance(memory) && memory.queue() >= 0 && memory.queue() < queues.length) {
                queues[memory.queue()].memFree(memoryType.cast(memory));
            }
        }
    }

    private M own(int queue, QueueMemory memory) throws QueueOperationException {
        if (!memoryType.isInstance(memory) || memory.queue() != queue) {
            throw new QueueOperationException("queue " + name + "/" + queue + ": memory " + memory
                    + " was not allocated for it by memAlloc");
        }
        return memoryType.cast(memory);
    }

    @Override
    public final String queueFault(int queue) {
        return queueOrThrow(queue).fault();
    }

    @Override
    public Map<String, Long> queueStats(int queue) {
        return queueOrThrow(queue).stats();
    }

    // ---- device state ---------------------------------------------------------------------------------

    @Override
    public final boolean adminUp() {
        return adminUp;
    }

    @Override
    public final void setAdminUp(boolean up) {
        adminUp = up;
    }

    @Override
    public final boolean carrier() {
        return carrier;
    }

    @Override
    public final void setCarrier(boolean up) {
        carrier = up;
    }

    // ---- QueueDebug: netdevsim's aids -------------------------------------------------------------------

    @Override
    public final boolean holdPage(int queue) {
        try {
            return queueOrThrow(queue).holdPage();
        } catch (QueueOperationException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public final int releaseHeldPages(int queue) {
        return queueOrThrow(queue).releaseHeldPages();
    }

    @Override
    public final int heldPages(int queue) {
        return queueOrThrow(queue).heldPages();
    }

    @Override
    public final void resetMode(ResetMode mode) {
        resetMode = Objects.requireNonNull(mode, "mode");
    }

    /**
     * Whether the hardware can take new memory while the old still receives (make-before-break);
     * false where it must let go of the old first (an AF_XDP queue takes one socket), so the
     * engine stops and starts the queue and does not call that a hitless swap.
     */
    protected boolean swapsWithoutBreak() {
        return true;
    }

    @Override
    public final ResetMode resetMode() {
        return resetMode;
    }

    /** A new NAPI context's id. */
    final int newNapiId() {
        return napiIds.incrementAndGet();
    }

    // ---- lookup ----------------------------------------------------------------------------------------------

    private Q queue(int queue) throws QueueOperationException {
        try {
            return queueOrThrow(queue);
        } catch (IllegalArgumentException e) {
            throw new QueueOperationException(e.getMessage());
        }
    }

    /** @throws IllegalArgumentException naming the queue and the device's range */
    protected final Q queueOrThrow(int queue) {
        if (queue < 0 || queue >= queues.length) {
            throw Checks.invalid("queue", queue, "0.." + (queues.length - 1) + " on " + name);
        }
        return queues[queue];
    }

    // ---- life --------------------------------------------------------------------------------------------------

    /**
     * Takes the link down, then stops every queue and frees its memory (each pool closes; pages
     * consumers still hold come back to it later), held pages first, then ends each queue's own
     * loop. The driver's close calls this before it lets go of its resources.
     */
    protected final void closeQueuesAndLoops() {
        closeQueues();
        if (queues != null) {
            for (Q q : queues) {
                if (q != null && q.loop() != null) {
                    q.close();
                }
            }
        }
    }

    /**
     * As {@link #closeQueuesAndLoops}, leaving the loops running: for a driver whose loops serve
     * several queues and are ended by it (the driver's close calls this first).
     */
    protected final void closeQueues() {
        carrier = false;
        if (queues == null) {
            return;
        }
        for (Q q : queues) {
            if (q == null || q.loop() == null || !q.loop().alive()) {
                continue; // never started: it has no memory
            }
            q.releaseHeldPages();
            try {
                M m = q.stop();
                if (m != null) {
                    q.memFree(m);
                }
            } catch (QueueOperationException | RuntimeException e) {
                LOG.log(Level.ERROR, "closing " + q.id() + ": " + e.getMessage(), e);
            }
        }
    }
}

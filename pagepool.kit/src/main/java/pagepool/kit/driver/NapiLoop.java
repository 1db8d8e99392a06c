package pagepool.kit.driver;

import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import pagepool.api.QueueId;
import pagepool.api.queue.QueueOperationException;

/**
 * A NAPI thread: it polls its queues ({@link Poll}) and runs their queue operations as tasks
 * between two polls, so a poll never sees a queue's memory change under it. Another thread hands
 * an operation over with {@link #call}, which wakes the loop ({@link #wakeWith}: an unpark by
 * default, an eventfd write for a loop asleep in the kernel) and waits for the answer within a
 * deadline. The loop survives whatever a poll throws: {@link Poll#failed} counts it, the loop
 * backs off briefly and goes on.
 *
 * <p>A loop whose wait touches no queue's memory ({@link Poll#waitsApart}) lets go of its NAPI
 * context while it waits: an operation that allocates nothing ({@link #callHeld}) then takes the
 * context and runs on its caller's thread, as Linux's queue API runs between {@code napi_disable}
 * and {@code napi_enable}, without waking the loop and waiting for it to answer (two thread
 * switches, most of a swap's time on a busy machine). The context changes hands by one
 * compare-and-set each way, so what one holder wrote the next one sees.
 */
public final class NapiLoop implements Runnable {

    private static final System.Logger LOG = System.getLogger(NapiLoop.class.getName());
    /** How long a caller waits for a queue operation. */
    public static final long CALL_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long SET_UP_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long BACK_OFF_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** How long a caller of {@link #callHeld} spins for a poll under way to end before it hands over instead. */
    private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(20);
    private static final int FREE = 0;
    private static final int LOOP = 1;
    private static final int CALLER = 2;

    /** What the loop does between tasks: the driver's receive path. */
    public interface Poll {
        /** On the loop's thread before its first poll; what it throws ends the loop and fails {@link #start}. */
        default void setUp() {
        }

        /**
         * One round over the loop's queues. When none had work and no task is waiting
         * ({@link NapiLoop#idle}), it waits for traffic or a {@link NapiLoop#wake}, up to a bound of its own
         * (unless it {@link #waitsApart}).
         */
        void poll();

        /** The round threw: count it and fail the queue concerned; the loop goes on. */
        void failed(Throwable t);

        /** On the loop's thread after its last task. */
        default void tearDown() {
        }

        /**
         * Whether {@link #poll} never waits and {@link #await} does: then the loop lets go of the
         * NAPI context while it waits, and an operation may take it meanwhile on another thread.
         * Only for a wait that touches no queue's memory (a timed sleep does; an io_uring wait that
         * runs the kernel's receive does not). The driver's hooks a swap runs ({@code unusable},
         * {@code swapping}) then run on the caller's thread, the engine's, within the engine's
         * budget for a queue operation: one that blocks past it has its queue left alone until
         * it returns.
         */
        default boolean waitsApart() {
            return false;
        }

        /**
         * With {@link #waitsApart}: after a round, when no task is waiting, waits for traffic or a
         * {@link NapiLoop#wake}, up to a bound of its own, holding no NAPI context.
         */
        default void await() {
        }
    }

    /**
     * A queue operation, run holding the NAPI context: on the loop's thread, or on its caller's
     * ({@link NapiLoop#callHeld}).
     */
    public interface Task<T> {
        T run() throws QueueOperationException;
    }

    private final Thread thread;
    private final Poll poll;
    private final long callTimeoutNanos;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final CountDownLatch ready = new CountDownLatch(1);
    /** Who holds the NAPI context, with {@link Poll#waitsApart}: nobody, the loop, or a caller. */
    private final AtomicInteger holder = new AtomicInteger(FREE);
    private final boolean apart;
    /** The loop waits for a caller to give the context back (and is unparked when it does). */
    private volatile boolean loopWaits;
    private volatile Runnable waker;
    private volatile Throwable setUpFailure;
    private volatile boolean closing;

    public NapiLoop(String name, Poll poll) {
        this(name, poll, CALL_TIMEOUT_NANOS);
    }

    /** @param callTimeoutNanos how long {@link #call} waits for an answer */
    public NapiLoop(String name, Poll poll, long callTimeoutNanos) {
        this.poll = poll;
        this.callTimeoutNanos = callTimeoutNanos;
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
        this.waker = () -> LockSupport.unpark(thread);
        this.apart = poll.waitsApart();
    }

    /**
     * How other threads end the loop's wait from now on, e.g. an eventfd write a ring polls;
     * set by {@link Poll#setUp}. Null goes back to the unpark.
     */
    public void wakeWith(Runnable wake) {
        this.waker = wake != null ? wake : () -> LockSupport.unpark(thread);
    }

    /** Starts the thread and waits until {@link Poll#setUp} finished. */
    public NapiLoop start() {
        thread.start();
        try {
            if (!ready.await(SET_UP_NANOS, TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException(thread.getName() + ": did not set up within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(thread.getName() + ": interrupted while setting up");
        }
        Throwable t = setUpFailure;
        if (t != null) {
            throw new IllegalStateException(t.getMessage(), t);
        }
        return this;
    }

    public boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    /** Whether the thread runs (started, not ended). */
    public boolean alive() {
        return thread.isAlive();
    }

    /** Whether the loop has nothing to do but wait: no task is waiting. */
    public boolean idle() {
        return tasks.isEmpty() && !closing;
    }

    /** Ends the loop's wait, from any thread. */
    public void wake() {
        waker.run();
    }

    /** Runs {@code task} on the loop's thread between two polls. */
    public void submit(Runnable task) {
        tasks.add(task);
        wake();
    }

    /** {@link #call(QueueId, Task, Consumer)} for an operation whose late answer needs no clean-up. */
    public <T> T call(QueueId queue, Task<T> work) throws QueueOperationException {
        return call(queue, work, late -> { });
    }

    /**
     * Runs a queue operation on the loop's thread (at once when called from it) and waits for its
     * answer at most the loop's call timeout ({@link #CALL_TIMEOUT_NANOS} by default).
     *
     * @param late takes what the operation gives after the caller stopped waiting, so memory
     *        allocated too late is freed, not left behind
     * @throws QueueOperationException what the operation threw, or naming the queue and why no
     *         answer came (closed, timed out, interrupted)
     */
    public <T> T call(QueueId queue, Task<T> work, Consumer<? super T> late) throws QueueOperationException {
        if (isCurrent()) {
            return work.run();
        }
        if (closing || !thread.isAlive()) {
            throw new QueueOperationException("queue " + queue + " is closed");
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        submit(() -> {
            T v;
            try {
                v = work.run();
            } catch (Throwable e) {
                f.completeExceptionally(e);
                return;
            }
            if (!f.complete(v) && v != null) {
                late.accept(v);
            }
        });
        try {
            return f.get(callTimeoutNanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw operationFailed(queue, e.getCause());
        } catch (TimeoutException e) {
            if (!f.completeExceptionally(e)) {
                try {
                    return f.getNow(null); // it answered just now
                } catch (CompletionException c) {
                    throw operationFailed(queue, c.getCause());
                }
            }
            throw new QueueOperationException("queue " + queue + ": its NAPI thread did not answer within "
                    + TimeUnit.NANOSECONDS.toMillis(callTimeoutNanos) + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QueueOperationException("queue " + queue + ": interrupted");
        }
    }

    /**
     * Runs a queue operation that allocates nothing from the queue's pools (the pools' NAPI owner
     * stays the loop's thread), holding the NAPI context: on the caller's thread when the loop
     * waits apart ({@link Poll#waitsApart}) and no task is queued before it, else as {@link #call}.
     * A poll under way is waited for briefly, as {@code napi_disable} waits for one. The work
     * must not call back into the loop.
     */
    public <T> T callHeld(QueueId queue, Task<T> work) throws QueueOperationException {
        if (apart && !isCurrent() && !closing && thread.isAlive() && take()) {
            try {
                if (tasks.isEmpty()) { // an operation queued earlier runs first: keep the order
                    return work.run();
                }
            } catch (RuntimeException e) {
                throw operationFailed(queue, e); // named as call names it
            } finally {
                giveBack();
            }
        }
        return call(queue, work);
    }

    /** Takes the NAPI context for a caller, spinning while a poll ends; false when it did not get it. */
    private boolean take() {
        if (holder.compareAndSet(FREE, CALLER)) {
            return true;
        }
        long deadline = System.nanoTime() + SPIN_NANOS;
        while (System.nanoTime() - deadline < 0) {
            Thread.onSpinWait();
            if (holder.get() == FREE && holder.compareAndSet(FREE, CALLER)) {
                return true;
            }
        }
        return false;
    }

    private void giveBack() {
        holder.set(FREE);
        if (loopWaits) {
            LockSupport.unpark(thread);
        }
    }

    private static QueueOperationException operationFailed(QueueId queue, Throwable c) {
        if (c instanceof QueueOperationException q) {
            return q;
        }
        return new QueueOperationException("queue " + queue + ": " + (c.getMessage() != null ? c.getMessage() : c), c);
    }

    @Override
    public void run() {
        try {
            poll.setUp();
        } catch (Throwable t) {
            setUpFailure = t;
            tearDown();
            return;
        } finally {
            ready.countDown();
        }
        while (!closing) {
            if (apart && !holder.compareAndSet(FREE, LOOP)) {
                waitForCaller();
                continue;
            }
            boolean threw = false;
            try {
                runTasks();
                poll.poll();
            } catch (Throwable t) {
                poll.failed(t);
                threw = true;
            } finally {
                if (apart) {
                    holder.set(FREE);
                }
            }
            if (threw) {
                LockSupport.parkNanos(BACK_OFF_NANOS); // no spinning on an error that stays
            } else if (apart && idle()) {
                awaitApart();
            }
        }
        if (apart) {
            while (!holder.compareAndSet(FREE, LOOP)) {
                waitForCaller();
            }
        }
        runTasks();
        tearDown();
    }

    /** A caller holds the NAPI context: wait until it gives it back (it unparks the loop). */
    private void waitForCaller() {
        loopWaits = true;
        if (holder.get() == CALLER) {
            LockSupport.parkNanos(BACK_OFF_NANOS);
        }
        loopWaits = false;
    }

    private void awaitApart() {
        try {
            poll.await();
        } catch (Throwable t) {
            poll.failed(t);
            LockSupport.parkNanos(BACK_OFF_NANOS);
        }
    }

    private void runTasks() {
        for (Runnable t; (t = tasks.poll()) != null;) {
            t.run(); // queue operations complete their own futures, errors included
        }
    }

    private void tearDown() {
        try {
            poll.tearDown();
        } catch (Throwable t) {
            LOG.log(Level.ERROR, thread.getName() + ": tear-down: " + t, t);
        }
    }

    /** Ends the loop after the tasks waiting now, and waits up to 10 s for the thread to end. */
    public void close() {
        closing = true;
        wake();
        if (isCurrent()) {
            return;
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The engine's thread, {@code pagepool-reconciler}: every change of bindings, providers and
 * devices runs on it, in order, so none needs a lock; callers wait for theirs. Nothing the work
 * throws ends the thread or the work after it.
 *
 * <p>What makes it "the" engine thread is the <em>turn</em>: whoever holds it runs engine work.
 * A call into a plugin ({@link #inline}) runs on the turn's holder itself, under a time budget a
 * watchdog keeps, because a hop to another thread and back costs two wake-ups, several times what
 * a queue's memory allocation takes. If the call does not answer within its budget, the engine goes
 * on without it, as Go's runtime hands the processor of a thread stuck in a system call to another
 * thread: the watchdog gives the turn to a new thread, which first settles the overrun (the
 * {@code abandoned} work of the call), then answers the waiting caller from the engine's state and
 * takes the next work. The stuck thread, once (if ever) the plugin answers, hands the late answer
 * to its clean-up (or keeps it, where it stays true however late), waits for the turn, finishes its
 * work, and ends.
 */
final class EngineThread implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EngineThread.class.getName());
    /** How often the watchdog looks: a call overruns its budget by at most this much before the engine goes on. */
    static final long WATCH_MILLIS = 20;

    private final long waitMillis;
    private final LinkedBlockingDeque<Runnable> work = new LinkedBlockingDeque<>();
    /** One permit: the right to run engine work. Fair, so a stuck thread back from its plugin gets it next. */
    private final Semaphore turn = new Semaphore(1, true);
    /** Runs the watchdog and the periodic work's posting; never engine work, never a plugin. */
    private final ScheduledThreadPoolExecutor timer;
    private final AtomicReference<Inline> inCall = new AtomicReference<>();
    private final AtomicInteger workers = new AtomicInteger();
    /** The thread that takes the next work; replaced when one is stuck in a plugin. */
    private volatile Thread worker;
    /** The thread holding the turn outside a plugin call: work it asks for runs at once. */
    private volatile Thread holder;
    /** The caller's answer of the work the holder runs, if a caller waits for it. */
    private volatile EngineCall<?> running;
    /** Engine work after an overrun, once the call's own is done: the engine reconciles what the stuck work left. */
    private volatile Runnable afterOverrun = () -> { };
    private volatile boolean stopped;

    EngineThread() {
        this(30_000);
    }

    /** @param waitMillis how long a caller waits for its work (twice, if it started) */
    EngineThread(long waitMillis) {
        this.waitMillis = waitMillis;
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "pagepool-engine-timer");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        timer.scheduleAtFixedRate(this::watch, WATCH_MILLIS, WATCH_MILLIS, TimeUnit.MILLISECONDS);
        startWorker();
    }

    private void startWorker() {
        Thread t = new Thread(this::takeWork, workers.getAndIncrement() == 0 ? "pagepool-reconciler"
                : "pagepool-reconciler-" + workers.get());
        t.setDaemon(true);
        worker = t;
        t.start();
    }

    /** Engine work to run after a call's overrun is settled (the Engine reconciles every queue). */
    void afterOverrun(Runnable then) {
        this.afterOverrun = then;
    }

    /** Posts the engine's work after an overrun: a thread back from a late plugin call asks for it. */
    void reconcileLater() {
        post("reconciling after a late answer", afterOverrun);
    }

    boolean stopped() {
        return stopped;
    }

    /** The call the holder runs: set and cleared by it ({@link EngineCall#run}). */
    void running(EngineCall<?> call, boolean started) {
        if (started) {
            running = call;
        } else if (running == call) {
            running = null;
        }
    }

    /** A call taken back before it started: out of the queue. */
    void remove(EngineCall<?> call) {
        work.remove(call);
    }

    /** Whether the calling thread holds the turn (runs engine work) and is not inside a plugin call. */
    boolean holds() {
        return Thread.currentThread() == holder;
    }

    private void takeWork() {
        Thread me = Thread.currentThread();
        while (worker == me && !stopped) {
            Runnable next;
            try {
                next = work.take();
            } catch (InterruptedException e) {
                continue; // closing: the loop's condition says
            }
            turn.acquireUninterruptibly();
            holder = me;
            try {
                if (!stopped) {
                    next.run();
                }
            } catch (Throwable t) {
                LOG.log(Level.ERROR, "engine work failed", t);
            } finally {
                holder = null;
                turn.release();
            }
        }
    }

    /**
     * Runs {@code task} on the engine thread (at once if called from it) and returns its result;
     * what it throws, the caller gets.
     *
     * @throws IllegalStateException when the engine is stopped, or the task did not finish in 30 s
     */
    <T> T call(Callable<T> task) {
        if (stopped) {
            throw new IllegalStateException("the pagepool engine is stopped");
        }
        if (holds()) {
            EngineCall<?> outer = running;
            running = null; // an answer from state asked for inside is not the outer caller's
            try {
                return task.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            } finally {
                running = outer;
            }
        }
        EngineCall<T> a = new EngineCall<>(this, task, waitMillis);
        work.add(a);
        if (stopped && work.remove(a)) {
            throw new IllegalStateException("the pagepool engine is stopped");
        }
        return a.await();
    }

    /**
     * Said by work that has applied its change, with how to answer its caller from the engine's
     * state: if a plugin call in the rest of the work overruns its budget, the caller gets that
     * answer once the overrun is settled, instead of waiting for the plugin.
     */
    <T> void answerFromState(Supplier<T> answer) {
        EngineCall<?> a = running;
        if (a != null && holds()) {
            a.fromState = answer;
        }
    }

    /**
     * Calls a plugin on this thread under a budget; see the class comment. Must be called by the
     * turn's holder ({@link #holds()}).
     *
     * @param what the call, for messages ("memAlloc of sim0/3")
     * @param late takes an answer that came after the budget (on the stuck thread, before it waits
     *     for the turn); null to have the late answer returned (or its exception thrown) once the
     *     stuck thread has the turn again, for an answer that stays true however late (a queue
     *     operation the driver did carry out)
     * @param abandoned engine work that settles an overrun (runs on the engine's new thread, first)
     * @throws Budget.OverBudgetException when the call did not answer within {@code millis} and
     *     {@code late} took its answer: its {@link Budget.OverBudgetException#settled()} is true,
     *     the overrun was settled meanwhile
     * @throws Exception what the call threw
     */
    <T> T inline(String what, long millis, Budget.Work<T> call, Consumer<? super T> late, Runnable abandoned)
            throws Exception {
        Thread me = Thread.currentThread();
        if (holder != me) {
            throw new IllegalStateException(what + ": a plugin call inline must be made by the engine thread");
        }
        if (stopped) {
            // Work finishing after the engine stopped (a thread back from a late call) calls no more plugins.
            throw new IllegalStateException("the pagepool engine is stopped: " + what + " not made");
        }
        Inline c = new Inline(what, millis, me, abandoned, running);
        holder = null; // the engine is not inside the plugin: what it asks of the engine waits its turn
        inCall.set(c);
        T v = null;
        Throwable thrown = null;
        try {
            v = call.run();
        } catch (Throwable t) {
            thrown = t;
        }
        if (c.finish()) {
            inCall.compareAndSet(c, null);
            holder = me;
            return answer(what, v, thrown);
        }
        if (late == null) {
            // The late answer is the truth (a queue that did switch): the work goes on with it, in its turn.
            LOG.log(Level.WARNING, "{0} answered after its budget ran out; the work goes on with its answer", what);
            resume(me, what);
            return answer(what, v, thrown);
        }
        if (thrown != null) {
            LOG.log(Level.WARNING, "{0} failed after its budget ran out: {1}", what, QueueRestart.message(thrown));
        } else if (v != null) {
            LOG.log(Level.WARNING, "{0} answered after its budget ran out: its answer is cleaned up", what);
            try {
                late.accept(v);
            } catch (Throwable t) {
                LOG.log(Level.ERROR, "cleaning up the late answer of " + what + " failed", t);
            }
        }
        resume(me, what);
        throw Budget.OverBudgetException.settled(what + " did not answer within " + millis + " ms");
    }

    /**
     * Back from a late plugin call: waits for the turn. If the engine stopped meanwhile, the work
     * ends here (holding the turn, which the work loop gives back as it unwinds).
     */
    private void resume(Thread me, String what) {
        turn.acquireUninterruptibly();
        holder = me;
        if (stopped) {
            throw new IllegalStateException("the pagepool engine stopped while " + what + " was under way");
        }
    }

    private static <T> T answer(String what, T v, Throwable thrown) throws Exception {
        if (thrown instanceof Exception e) {
            throw e;
        }
        if (thrown instanceof Error e) {
            throw e;
        }
        if (thrown != null) {
            throw new IllegalStateException(what + " threw " + thrown.getClass().getName(), thrown);
        }
        return v;
    }

    /** The watchdog: a call past its budget loses the turn to a new thread. */
    private void watch() {
        Inline c = inCall.get();
        if (c == null || System.nanoTime() - c.deadline < 0 || !c.abandon()) {
            return;
        }
        inCall.compareAndSet(c, null);
        LOG.log(Level.WARNING, "{0} did not answer within {1} ms: the engine goes on without it, on a new thread",
                c.what, String.valueOf(c.millis));
        work.addFirst(() -> settle(c));
        if (worker == c.thread && !stopped) {
            startWorker();
        }
        turn.release();
    }

    /** Settles an overrun on the engine's new thread: the call's own work, the engine's, then the caller's answer. */
    private void settle(Inline c) {
        try {
            c.abandoned.run();
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "settling the overrun of " + c.what + " failed", t);
        }
        try {
            afterOverrun.run();
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "reconciling after the overrun of " + c.what + " failed", t);
        }
        if (c.answer != null) {
            c.answer.answerNow(c.what + " did not answer within " + c.millis + " ms");
        }
    }

    /** Runs a service event's work and waits for it, unless the engine is stopping (DS unbinds after deactivate). */
    void event(Runnable work) {
        if (!stopped()) {
            call(() -> {
                answerFromState(() -> null);
                work.run();
                return null;
            });
        }
    }

    /** Queues work without waiting, from any thread (a NAPI thread meeting a provider fault included). */
    void post(String what, Runnable task) {
        if (!stopped) {
            work.add(() -> guarded(what, task));
        }
    }

    /** Runs work every {@code millis} (after the previous run, on the engine thread); null when the engine is stopped. */
    ScheduledFuture<?> every(long millis, String what, Runnable task) {
        if (stopped) {
            return null;
        }
        AtomicBoolean queued = new AtomicBoolean();
        return timer.scheduleWithFixedDelay(() -> {
            if (queued.compareAndSet(false, true)) {
                post(what, () -> {
                    queued.set(false);
                    task.run();
                });
            }
        }, millis, millis, TimeUnit.MILLISECONDS);
    }

    private static void guarded(String what, Runnable work) {
        try {
            work.run();
        } catch (Throwable t) {
            LOG.log(Level.ERROR, what + " failed", t);
        }
    }

    @Override
    public void close() {
        stopped = true;
        timer.shutdownNow();
        java.util.List<Runnable> left = new java.util.ArrayList<>();
        work.drainTo(left);
        for (Runnable r : left) {
            if (r instanceof EngineCall<?> a) {
                a.takeBack("the pagepool engine stopped before this ran: nothing changed");
            }
        }
        Thread w = worker;
        if (w != null) {
            w.interrupt();
        }
    }

    /** A plugin call under way on the turn's holder. */
    private static final class Inline {
        private static final int RUNNING = 0;
        private static final int DONE = 1;
        private static final int ABANDONED = 2;

        final String what;
        final long millis;
        final long deadline;
        final Thread thread;
        final Runnable abandoned;
        final EngineCall<?> answer;
        private final AtomicInteger state = new AtomicInteger(RUNNING);

        Inline(String what, long millis, Thread thread, Runnable abandoned, EngineCall<?> answer) {
            this.what = what;
            this.millis = millis;
            this.deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            this.thread = thread;
            this.abandoned = abandoned;
            this.answer = answer;
        }

        boolean finish() {
            return state.compareAndSet(RUNNING, DONE);
        }

        boolean abandon() {
            return state.compareAndSet(RUNNING, ABANDONED);
        }
    }
}

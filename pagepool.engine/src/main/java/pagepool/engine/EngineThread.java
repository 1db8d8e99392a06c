package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The engine's one thread, {@code pagepool-reconciler}: every change of bindings, providers and
 * devices runs on it, in order, so none needs a lock; callers wait for theirs. Nothing the work
 * throws ends the thread or the work after it.
 */
final class EngineThread implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EngineThread.class.getName());
    private static final int QUEUED = 0;
    private static final int STARTED = 1;
    private static final int TAKEN_BACK = 2;

    private final long waitMillis;

    private final ScheduledThreadPoolExecutor executor;
    private volatile Thread thread;

    EngineThread() {
        this(30_000);
    }

    /** @param waitMillis how long a caller waits for its work (twice, if it started) */
    EngineThread(long waitMillis) {
        this.waitMillis = waitMillis;
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "pagepool-reconciler");
            t.setDaemon(true);
            thread = t;
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
    }

    boolean stopped() {
        return executor.isShutdown();
    }

    /**
     * Runs {@code task} on the engine thread (at once if called from it) and returns its result;
     * what it throws, the caller gets.
     *
     * @throws IllegalStateException when the engine is stopped, or the task did not finish in 30 s
     */
    <T> T call(Callable<T> task) {
        if (stopped()) {
            throw new IllegalStateException("the pagepool engine is stopped");
        }
        if (Thread.currentThread() == thread) {
            try {
                return task.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        // Queued, then started or taken back: whichever comes first wins, so a call the caller gave
        // up on before it started never runs (a FutureTask's cancel would not tell a running one).
        java.util.concurrent.atomic.AtomicInteger phase = new java.util.concurrent.atomic.AtomicInteger(QUEUED);
        Future<T> f;
        try {
            f = executor.submit(() -> {
                if (!phase.compareAndSet(QUEUED, STARTED)) {
                    return null;
                }
                return task.call();
            });
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("the pagepool engine is stopped");
        }
        try {
            return f.get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw thrown(e);
        } catch (TimeoutException e) {
            return overdue(f, phase);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the engine thread", e);
        }
    }

    /**
     * A call that waited its time. One that has not started is taken back, so the answer "it did
     * not happen" is true; one that runs is waited for once more, then answered as not finished:
     * a command never reports failure and then takes effect.
     */
    private <T> T overdue(Future<T> f, java.util.concurrent.atomic.AtomicInteger phase) {
        if (phase.compareAndSet(QUEUED, TAKEN_BACK)) {
            f.cancel(false);
            throw new IllegalStateException("the engine thread was busy for " + waitMillis + " ms with earlier work:"
                    + " nothing changed (expected: an engine that is not blocked; try again)");
        }
        try {
            return f.get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw thrown(e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("not finished yet after " + 2 * waitMillis + " ms: it is being applied"
                    + " and takes effect when done (see the bindings and queues lists)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the engine thread; the change is being"
                    + " applied", e);
        }
    }

    /** What the work threw, for its caller: as it was if unchecked, else wrapped. */
    private static RuntimeException thrown(ExecutionException e) {
        return e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
    }

    /** Runs a service event's work and waits for it, unless the engine is stopping (DS unbinds after deactivate). */
    void event(Runnable work) {
        if (!stopped()) {
            call(() -> {
                work.run();
                return null;
            });
        }
    }

    /** Queues work without waiting, from any thread (a NAPI thread meeting a provider fault included). */
    void post(String what, Runnable work) {
        try {
            executor.execute(() -> guarded(what, work));
        } catch (RejectedExecutionException e) {
            // The engine is stopping.
        }
    }

    /** Runs work every {@code millis}; null when the engine is stopped. */
    ScheduledFuture<?> every(long millis, String what, Runnable work) {
        if (stopped()) {
            return null;
        }
        return executor.scheduleWithFixedDelay(() -> guarded(what, work), millis, millis, TimeUnit.MILLISECONDS);
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
        executor.shutdownNow();
    }
}

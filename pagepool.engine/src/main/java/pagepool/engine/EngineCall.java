package pagepool.engine;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Work a caller waits for on the {@link EngineThread}, and its answer: taken back if the caller
 * stops waiting before it starts, waited for once more if it has started, answered from the
 * engine's state if a plugin call in it overruns its budget.
 */
final class EngineCall<T> implements Runnable {

    private static final int QUEUED = 0;
    private static final int STARTED = 1;
    private static final int TAKEN_BACK = 2;

    private final EngineThread thread;
    private final Callable<T> task;
    private final long waitMillis;
    // Queued, then started or taken back: whichever comes first wins, so a call the caller gave
    // up on before it started never runs.
    private final AtomicInteger phase = new AtomicInteger(QUEUED);
    private final CompletableFuture<T> result = new CompletableFuture<>();
    volatile Supplier<?> fromState;

    EngineCall(EngineThread thread, Callable<T> task, long waitMillis) {
        this.thread = thread;
        this.task = task;
        this.waitMillis = waitMillis;
    }

    @Override
    public void run() {
        if (!phase.compareAndSet(QUEUED, STARTED)) {
            return;
        }
        thread.running(this, true);
        try {
            result.complete(task.call());
        } catch (Throwable t) {
            result.completeExceptionally(t);
        } finally {
            thread.running(this, false);
        }
    }

    /** Answers from the engine's state, or says the work is not finished, while it waits for a plugin. */
    @SuppressWarnings("unchecked")
    void answerNow(String why) {
        Supplier<?> s = fromState;
        if (s == null) {
            result.completeExceptionally(new IllegalStateException("not finished yet: " + why + "; the engine"
                    + " went on without it, and the rest takes effect when it answers (see the bindings and queues"
                    + " lists)"));
            return;
        }
        try {
            result.complete((T) s.get());
        } catch (Throwable t) {
            result.completeExceptionally(t);
        }
    }

    T await() {
        try {
            return result.get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw thrown(e);
        } catch (TimeoutException e) {
            return overdue();
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
    private T overdue() {
        if (phase.compareAndSet(QUEUED, TAKEN_BACK)) {
            thread.remove(this);
            throw new IllegalStateException("the engine thread was busy for " + waitMillis + " ms with earlier work:"
                    + " nothing changed (expected: an engine that is not blocked; try again)");
        }
        try {
            return result.get(waitMillis, TimeUnit.MILLISECONDS);
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

    /** Taken back before it started, with why (the engine stopped): it never runs. */
    void takeBack(String why) {
        if (phase.compareAndSet(QUEUED, TAKEN_BACK)) {
            result.completeExceptionally(new IllegalStateException(why));
        }
    }

    /** What the work threw, for its caller: as it was if unchecked, else wrapped. */
    private static RuntimeException thrown(ExecutionException e) {
        return e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
    }
}

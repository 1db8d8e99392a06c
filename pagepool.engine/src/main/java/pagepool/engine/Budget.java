package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * A call into a plugin (a memory free, which gives pages back to the provider; a driver's memory
 * allocation when it is not made on the engine thread, which calls it inline instead:
 * {@link EngineThread#inline}) with a time budget.
 * The call runs on a thread of the engine's own (warm, reused: a new thread per call would cost a
 * restart's whole time), so the engine thread waits at most the budget;
 * the caller's state machine then decides, as Linux does around a completion it cannot trust.
 * An answer that comes after the caller gave up is not lost: it goes to a clean-up (memory
 * allocated too late is freed), never back into the state machine.
 */
final class Budget implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Budget.class.getName());

    /** A call that did not answer within its budget; it goes on, and its late answer is cleaned up. */
    static final class OverBudgetException extends Exception {
        private static final long serialVersionUID = 1L;
        private final boolean settled;

        OverBudgetException(String message) {
            this(message, false);
        }

        private OverBudgetException(String message, boolean settled) {
            super(message, null, false, false);
            this.settled = settled;
        }

        /** An overrun of a call made on the engine thread, which the engine settled when it went on without it. */
        static OverBudgetException settled(String message) {
            return new OverBudgetException(message, true);
        }

        /** Whether the overrun was settled already (its state, its charge); the caller only cleans up. */
        boolean settled() {
            return settled;
        }
    }

    /** The work of one call: what the plugin answers, or what it throws. */
    interface Work<T> {
        T run() throws Exception;
    }

    /** A call that hangs keeps its thread, and the next call gets another; idle ones go after 60 s. */
    private final java.util.concurrent.ExecutorService callers = new java.util.concurrent.ThreadPoolExecutor(0,
            Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "pagepool-plugin-call");
                t.setDaemon(true);
                return t;
            });

    /** Calls waiting for an owner's call under way ({@link #inTurn}); an owner is here while one runs. */
    private final Map<Object, ArrayDeque<Runnable>> waiting = new HashMap<>();

    /** Stops taking calls; calls under way finish on their threads (a plugin call cannot be stopped). */
    @Override
    public void close() {
        callers.shutdown();
    }

    /**
     * @param what the call, for messages ("memAlloc of sim0/3")
     * @param late takes an answer that came after the budget (may run on any thread, later)
     * @return the answer
     * @throws OverBudgetException when it did not answer within {@code millis}
     * @throws Exception what the call threw
     */
    <T> T call(String what, long millis, Work<T> work, Consumer<? super T> late) throws Exception {
        CompletableFuture<T> answer = new CompletableFuture<>();
        try {
            callers.execute(() -> run(what, work, late, answer));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            run(what, work, late, answer); // the engine is stopping: call it here, as before budgets
        }
        return await(what, millis, answer);
    }

    /** Runs the call; an answer the caller no longer waits for goes to the clean-up. */
    private static <T> void run(String what, Work<T> work, Consumer<? super T> late, CompletableFuture<T> answer) {
        T v;
        try {
            v = work.run();
        } catch (Throwable t) {
            if (!answer.completeExceptionally(t)) {
                LOG.log(Level.WARNING, "{0} failed after its budget ran out: {1}", what, QueueRestart.message(t));
            }
            return;
        }
        if (!answer.complete(v) && v != null) {
            LOG.log(Level.WARNING, "{0} answered after its budget ran out: its answer is cleaned up", what);
            try {
                late.accept(v);
            } catch (Throwable t) {
                LOG.log(Level.ERROR, "cleaning up the late answer of " + what + " failed", t);
            }
        }
    }

    private static <T> T await(String what, long millis, CompletableFuture<T> answer) throws Exception {
        try {
            return answer.get(millis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            if (answer.completeExceptionally(new OverBudgetException(what + " timed out"))) {
                throw new OverBudgetException(what + " did not answer within " + millis + " ms");
            }
            return settled(answer); // it answered in the meantime
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (answer.completeExceptionally(new OverBudgetException(what + ": caller interrupted"))) {
                throw new OverBudgetException(what + ": interrupted while waiting");
            }
            return settled(answer);
        }
    }

    /**
     * Runs a call into a plugin on a thread of the engine's, without waiting, after the calls made
     * earlier for the same {@code owner}, one at a time: a plugin that hangs in one holds one
     * thread, and the calls after it wait in line (they are not lost) instead of each taking a
     * thread of its own, which a restart every few microseconds would make thousands of.
     *
     * @param owner whose calls run in turn (the driver's device: identity, not a name)
     * @return completes when the call has run: normally, or with what it threw
     */
    CompletableFuture<Void> inTurn(Object owner, String what, Runnable work) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable call = () -> {
            try {
                work.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        };
        synchronized (waiting) {
            ArrayDeque<Runnable> line = waiting.get(owner);
            if (line != null) {
                line.add(call);
                if (line.size() >= 16 && Integer.bitCount(line.size()) == 1) {
                    LOG.log(Level.WARNING, "{0}: {1} calls wait behind one that has not returned", what,
                            String.valueOf(line.size()));
                }
                return done;
            }
            waiting.put(owner, new ArrayDeque<>());
        }
        Runnable turns = () -> runInTurn(owner, call);
        try {
            callers.execute(turns);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            turns.run(); // the engine is stopping: run them here
        }
        return done;
    }

    /** Runs {@code first}, then what waits for the same owner until none does. */
    private void runInTurn(Object owner, Runnable first) {
        Runnable next = first;
        while (next != null) {
            next.run(); // completes its future; never throws
            synchronized (waiting) {
                next = waiting.get(owner).poll();
                if (next == null) {
                    waiting.remove(owner);
                }
            }
        }
    }

    /** The answer of a call that is done: its value, or what it threw. */
    private static <T> T settled(CompletableFuture<T> answer) throws Exception {
        try {
            return answer.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }
}

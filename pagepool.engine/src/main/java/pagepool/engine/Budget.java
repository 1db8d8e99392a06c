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

    /** How many of one owner's calls run at once ({@link #inLine}). */
    static final int PER_OWNER = 2;

    /** One owner's calls under way and waiting; an owner is in {@link #lines} while one runs. */
    private static final class Line {
        final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
        int running;
    }

    private final Map<Object, Line> lines = new HashMap<>();

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
     * Runs a call into a plugin on a thread of the engine's, without waiting, with at most
     * {@link #PER_OWNER} of the same {@code owner}'s calls under way at once; the others wait in
     * line, in order (they are not lost). A plugin that hangs so holds at most two threads, where
     * each call had taken one of its own, thousands when restarts come every few microseconds;
     * and one hung call does not hold up the owner's next, which the other thread takes.
     *
     * @param owner whose calls are counted together (the driver's device: identity, not a name)
     * @return completes when the call has run: normally, or with what it threw
     */
    CompletableFuture<Void> inLine(Object owner, String what, Runnable work) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable call = () -> {
            try {
                work.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        };
        synchronized (lines) {
            Line line = lines.computeIfAbsent(owner, o -> new Line());
            if (line.running == PER_OWNER) {
                line.waiting.add(call);
                int n = line.waiting.size();
                if (n >= 64 && Integer.bitCount(n) == 1) {
                    LOG.log(Level.WARNING, "{0}: {1} calls wait for {2} under way that have not returned", what,
                            String.valueOf(n), String.valueOf(PER_OWNER));
                }
                return done;
            }
            line.running++;
        }
        Runnable turns = () -> runInLine(owner, call);
        try {
            callers.execute(turns);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            turns.run(); // the engine is stopping: run them here
        }
        return done;
    }

    /** Runs {@code first}, then what waits in the owner's line until none does. */
    private void runInLine(Object owner, Runnable first) {
        Runnable next = first;
        while (next != null) {
            next.run(); // completes its future; never throws
            synchronized (lines) {
                Line line = lines.get(owner);
                next = line.waiting.poll();
                if (next == null && --line.running == 0) {
                    lines.remove(owner);
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

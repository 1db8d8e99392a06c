package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * How the engine calls plugins (drivers, providers) from its thread: inline, under one budget
 * ({@code alloc.budget.millis}) that the engine thread's watchdog keeps ({@link EngineThread#inline});
 * and frees of old memory on budget threads of their own ({@link Budget}), two of a device's at a
 * time, so nothing the engine does next waits for a provider taking its pages back.
 */
final class PluginCalls implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(PluginCalls.class.getName());

    private final EngineThread thread;
    /** The threads frees run on (and an allocation asked for off the engine thread). */
    private final Budget budget = new Budget();
    /** How long a call from the engine thread may take before the engine goes on without it. */
    private volatile long millis = 5_000;
    /** How long the engine waits for a stopped queue's memory to be freed before it goes on (the free goes on too). */
    private volatile long freeMillis = 1_000;

    PluginCalls(EngineThread thread) {
        this.thread = thread;
    }

    void budgets(long callMillis, long freeMillis) {
        this.millis = callMillis;
        this.freeMillis = freeMillis;
    }

    long millis() {
        return millis;
    }

    /**
     * A call whose late answer the engine no longer wants (memory allocated too late): inline on
     * the engine thread, on a budget thread from any other.
     *
     * @param late takes the answer that came after the budget
     * @param abandoned settles an overrun on the engine's new thread (inline only)
     * @throws Budget.OverBudgetException past the budget; {@link Budget.OverBudgetException#settled()}
     *     when {@code abandoned} ran
     */
    <T> T call(String what, Budget.Work<T> call, Consumer<? super T> late, Runnable abandoned) throws Exception {
        if (!thread.holds()) {
            return budget.call(what, millis, call, late);
        }
        return thread.inline(what, millis, call, late, abandoned);
    }

    /**
     * A call whose answer stays true however late it comes (a queue operation the driver carried
     * out, a device's details): inline on the engine thread, which goes on without it past the
     * budget ({@code abandoned} settles what must not wait), and the work that made it goes on
     * with the late answer, in its turn. From another thread it is simply called.
     */
    <T> T ask(String what, Budget.Work<T> call, Runnable abandoned) throws Exception {
        if (!thread.holds()) {
            return call.run();
        }
        return thread.inline(what, millis, call, null, abandoned);
    }

    /**
     * Runs a call on a budget thread without waiting, in line with the owner's others
     * ({@link Budget#inLine}); what it throws is logged.
     */
    void later(Object owner, String what, Runnable work) {
        budget.inLine(owner, what, work).whenComplete((none, t) -> logFailure(what, t));
    }

    /**
     * Runs a call as {@link #later} does and waits up to the free budget for it.
     *
     * @throws Budget.OverBudgetException when it did not finish in time (it goes on; what it throws then is logged)
     * @throws Exception what it threw in time
     */
    void andWait(Object owner, String what, Runnable work) throws Exception {
        CompletableFuture<Void> done = budget.inLine(owner, what, work);
        try {
            done.get(freeMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            done.whenComplete((none, t) -> logFailure(what, t));
            throw new Budget.OverBudgetException(what + " did not answer within " + freeMillis + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw (Exception) e.getCause();
        }
    }

    private static void logFailure(String what, Throwable t) {
        if (t != null) {
            LOG.log(Level.ERROR, "{0} failed: {1}", what, QueueRestart.message(t));
        }
    }

    /** The threads plugins' reads run on under their budget ({@link BoundedRead}). */
    Budget readers() {
        return budget;
    }

    long freeMillis() {
        return freeMillis;
    }

    @Override
    public void close() {
        budget.close();
    }
}

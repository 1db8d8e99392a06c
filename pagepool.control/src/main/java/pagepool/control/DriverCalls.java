package pagepool.control;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import pagepool.api.queue.NetDevice;

/**
 * What the control plane reads from drivers (counters, details, carrier), with a time budget:
 * a driver is other people's code, and one that never answers must not hang the traffic sampler,
 * a shell command or a scrape. A call runs on a thread of its own; past the budget the caller gets
 * an error in place of the answer. While a driver still owes an answer it is not asked again (no
 * thread piles up behind a hung driver); it is asked afresh once it answers.
 */
final class DriverCalls implements AutoCloseable {

    private final long budgetMillis;
    private final ExecutorService threads = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
            new SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "pagepool-driver-read");
                t.setDaemon(true);
                return t;
            });
    /** The call each driver still owes, by device object. */
    private final Map<NetDevice, CompletableFuture<?>> owed = new ConcurrentHashMap<>();

    DriverCalls(long budgetMillis) {
        this.budgetMillis = budgetMillis;
    }

    /**
     * @return what the driver answers
     * @throws IllegalStateException when it does not answer within the budget, still owes an
     *         earlier answer, or throws (its message kept)
     */
    <T> T call(NetDevice dev, String what, Supplier<T> call) {
        CompletableFuture<?> pending = owed.get(dev);
        if (pending != null && !pending.isDone()) {
            throw new IllegalStateException(what + ": the driver has not answered an earlier call yet");
        }
        CompletableFuture<T> answer = new CompletableFuture<>();
        owed.put(dev, answer);
        try {
            threads.execute(() -> {
                try {
                    answer.complete(call.get());
                } catch (Throwable t) {
                    answer.completeExceptionally(t);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            owed.remove(dev, answer);
            throw new IllegalStateException(what + ": the control plane is stopping");
        }
        try {
            T v = answer.get(budgetMillis, TimeUnit.MILLISECONDS);
            owed.remove(dev, answer);
            return v;
        } catch (TimeoutException e) {
            throw new IllegalStateException(what + " did not answer within " + budgetMillis + " ms");
        } catch (ExecutionException e) {
            owed.remove(dev, answer);
            Throwable c = e.getCause();
            throw new IllegalStateException(c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName(), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + ": interrupted");
        }
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}

package pagepool.engine;

import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

import pagepool.api.QueueId;
import pagepool.api.binding.Change;

/**
 * The engine's change notifications ({@code ynl --subscribe page-pool}): pools added, detached,
 * destroyed, queues changing provider or state. Whoever publishes never waits for a listener: the
 * changes go to listeners in order on one thread of their own, and nothing is queued while no one
 * listens.
 */
final class ChangeFeed implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ChangeFeed.class.getName());

    private final List<Consumer<Change>> listeners = new CopyOnWriteArrayList<>();
    private final ExecutorService delivery = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "pagepool-changes");
        t.setDaemon(true);
        return t;
    });

    Change.Subscription subscribe(Consumer<Change> listener) {
        java.util.Objects.requireNonNull(listener, "listener");
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    void publish(Change.Kind kind, int pool, QueueId queue, String provider, String detail) {
        if (listeners.isEmpty()) {
            return;
        }
        Change c = new Change(Instant.now(), kind, pool, queue, provider, detail);
        try {
            delivery.execute(() -> deliver(c));
        } catch (RejectedExecutionException e) {
            // The engine is closing: no one hears of it any more.
        }
    }

    private void deliver(Change c) {
        for (Consumer<Change> l : listeners) {
            try {
                l.accept(c);
            } catch (Throwable t) {
                LOG.log(Level.WARNING, "a change listener failed on " + c, t);
            }
        }
    }

    @Override
    public void close() {
        delivery.shutdownNow();
    }
}

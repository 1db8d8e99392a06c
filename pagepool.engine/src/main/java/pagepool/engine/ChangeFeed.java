package pagepool.engine;

import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import pagepool.api.QueueId;
import pagepool.api.binding.Change;

/**
 * The engine's change notifications ({@code ynl --subscribe page-pool}): pools added, detached,
 * destroyed, queues changing provider or state. Whoever publishes never waits for a listener, and
 * no listener waits for another: each subscriber has a queue of its own, bounded, drained in order
 * by a virtual thread of its own. A subscriber that falls {@value #BACKLOG} changes behind (it
 * blocks, or is slow) is dropped, logged and counted, as Linux drops a netlink listener whose
 * socket overflows; the others go on. Nothing is made while no one listens.
 */
final class ChangeFeed implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ChangeFeed.class.getName());
    /** Changes a subscriber may have waiting before it is dropped. */
    static final int BACKLOG = 10_000;

    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;

    /** A listener, its queue and the thread that feeds it. */
    private final class Subscriber implements Change.Subscription {
        final Consumer<Change> listener;
        final BlockingQueue<Change> backlog = new ArrayBlockingQueue<>(BACKLOG);
        final Thread thread;
        volatile boolean gone;

        Subscriber(Consumer<Change> listener) {
            this.listener = listener;
            this.thread = Thread.ofVirtual().name("pagepool-changes").unstarted(this::deliver);
        }

        private void deliver() {
            try {
                while (!gone) {
                    Change c = backlog.take();
                    try {
                        listener.accept(c);
                    } catch (Throwable t) {
                        LOG.log(Level.WARNING, "a change listener failed on " + c, t);
                    }
                }
            } catch (InterruptedException e) {
                // closed
            }
        }

        void offer(Change c) {
            if (!backlog.offer(c)) {
                dropped.incrementAndGet();
                LOG.log(Level.WARNING, "a change listener fell " + BACKLOG + " changes behind and was dropped ("
                        + listener.getClass().getName() + ")");
                close();
            }
        }

        @Override
        public void close() {
            gone = true;
            subscribers.remove(this);
            thread.interrupt();
        }
    }

    Change.Subscription subscribe(Consumer<Change> listener) {
        java.util.Objects.requireNonNull(listener, "listener");
        Subscriber s = new Subscriber(listener);
        subscribers.add(s);
        s.thread.start();
        return s;
    }

    /** Synchronized, so that every subscriber sees the changes of all publishers in one order. */
    synchronized void publish(Change.Kind kind, int pool, QueueId queue, String provider, String detail) {
        if (subscribers.isEmpty() || closed) {
            return;
        }
        Change c = new Change(Instant.now(), kind, pool, queue, provider, detail);
        for (Subscriber s : subscribers) {
            s.offer(c);
        }
    }

    /** Subscribers dropped for falling behind. */
    long dropped() {
        return dropped.get();
    }

    @Override
    public void close() {
        closed = true;
        subscribers.forEach(Subscriber::close);
    }
}

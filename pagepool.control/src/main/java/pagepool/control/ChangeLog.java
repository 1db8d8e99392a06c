package pagepool.control;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import pagepool.api.binding.Change;
import pagepool.api.control.ChangeEvent;

/**
 * The engine's changes numbered in the order they came, the last {@code kept} of them kept, so a
 * client that reconnects (an event stream's {@code Last-Event-ID}, a page polling) gets what it
 * missed, in order, none twice. Fed by the engine's change feed, on its one delivery thread.
 */
final class ChangeLog implements Consumer<Change> {

    private static final System.Logger LOG = System.getLogger(ChangeLog.class.getName());

    private final int kept;
    private final ArrayDeque<ChangeEvent> events = new ArrayDeque<>();
    private final List<Consumer<ChangeEvent>> followers = new CopyOnWriteArrayList<>();
    private long last;

    ChangeLog(int kept) {
        this.kept = kept;
    }

    @Override
    public synchronized void accept(Change c) {
        ChangeEvent e = new ChangeEvent(++last, c);
        events.addLast(e);
        if (events.size() > kept) {
            events.removeFirst();
        }
        for (Consumer<ChangeEvent> f : followers) {
            try {
                f.accept(e);
            } catch (RuntimeException | Error t) {
                LOG.log(System.Logger.Level.WARNING, "a change follower failed on " + e.id(), t);
            }
        }
    }

    synchronized List<ChangeEvent> after(long id) {
        List<ChangeEvent> out = new ArrayList<>();
        for (ChangeEvent e : events) {
            if (e.id() > id) {
                out.add(e);
            }
        }
        return out;
    }

    /** What is kept after {@code id}, then each new change; under the log's lock, so nothing falls between. */
    synchronized Change.Subscription follow(long id, Consumer<ChangeEvent> follower) {
        for (ChangeEvent e : after(id)) {
            follower.accept(e);
        }
        followers.add(follower);
        return () -> followers.remove(follower);
    }
}

package pagepool.engine;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One plugin's reads (what a provider reports of a pool, a driver's counters) under a budget: a
 * read runs on a budget thread, its caller (a shell command, a scrape, JFR's periodic thread, the
 * engine thread) waits at most {@code millis}; one that overran is owed, and the plugin is not
 * asked again until it answers, so a hung plugin strands one thread, not one per read.
 */
final class BoundedRead {

    /** One read: running, answered, or overdue (its caller went on without it). */
    private static final class Ask {
        static final int RUNNING = 0;
        static final int ANSWERED = 1;
        static final int OVERDUE = 2;
        final String what;
        final long start = System.nanoTime();
        final AtomicInteger state = new AtomicInteger(RUNNING);

        Ask(String what) {
            this.what = what;
        }
    }

    /** The plugin was not asked: it owes an earlier read. */
    static final class OwingException extends Exception {
        private static final long serialVersionUID = 1L;

        OwingException(String message) {
            super(message, null, false, false);
        }
    }

    private final long millis;
    /** The read the plugin still owes, or null. */
    private final AtomicReference<Ask> owed = new AtomicReference<>();

    BoundedRead(long millis) {
        this.millis = millis;
    }

    /**
     * Why the plugin is not asked now (it owes an earlier read), or null.
     */
    String owing() {
        Ask a = owed.get();
        return a == null ? null : a.what + " has not answered for "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - a.start) + " ms (expected: within " + millis
                + " ms); not asked again until it does";
    }

    /**
     * @return what the plugin answered
     * @throws OwingException when it owes an earlier read (it is not asked)
     * @throws Budget.OverBudgetException when it did not answer within the budget
     * @throws Exception what the read threw
     */
    <T> T read(Budget budget, String what, Budget.Work<T> work) throws Exception {
        String notNow = owing();
        if (notNow != null) {
            throw new OwingException(notNow);
        }
        Ask ask = new Ask(what);
        try {
            return budget.call(what, millis, () -> {
                try {
                    return work.run();
                } finally {
                    if (!ask.state.compareAndSet(Ask.RUNNING, Ask.ANSWERED)) {
                        owed.compareAndSet(ask, null); // answered late: ask again from now on
                    }
                }
            }, late -> { });
        } catch (Budget.OverBudgetException e) {
            // Owed first, then overdue: an answer racing this sees one or the other and clears it.
            if (owed.compareAndSet(null, ask) && !ask.state.compareAndSet(Ask.RUNNING, Ask.OVERDUE)) {
                owed.compareAndSet(ask, null);
            }
            throw e;
        }
    }
}

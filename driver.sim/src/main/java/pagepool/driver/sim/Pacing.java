package pagepool.driver.sim;

/**
 * The wire of one queue: how many packets have arrived since the last poll at the configured
 * rate, at most one NAPI budget at a time. NAPI thread only.
 */
final class Pacing {

    private final long ratePps;
    private long since = System.nanoTime();
    private long offered;

    /** @param ratePps packets per second; 0 for as many as the queue takes */
    Pacing(long ratePps) {
        this.ratePps = ratePps;
    }

    /** Packets due now, at most {@code budget}; none without carrier (and the window restarts). */
    int due(boolean carrier, int budget) {
        if (!carrier) {
            since = System.nanoTime();
            offered = 0;
            return 0;
        }
        if (ratePps == 0) {
            return budget;
        }
        long due = (System.nanoTime() - since) * ratePps / 1_000_000_000L - offered;
        int n = (int) Math.min(budget, Math.max(0, due));
        offered += n;
        if (offered > 1_000_000_000L) {
            // Keep the products small: restart the window.
            since = System.nanoTime();
            offered = 0;
        }
        return n;
    }

    /** Packets {@link #due} offered that were not taken (the receiver held the sender back): due again. */
    void giveBack(int n) {
        if (ratePps != 0) {
            offered -= n;
        }
    }

    /**
     * How long NAPI may sleep when nothing is due: long enough for half a budget of packets to
     * arrive, at most 1 ms (interrupt coalescing), so a paced queue wakes a few hundred times a
     * second instead of once per packet.
     */
    long nanosToNext(boolean carrier, int budget) {
        if (!carrier || ratePps == 0) {
            return 1_000_000;
        }
        return Math.max(50_000, Math.min(1_000_000, budget / 2 * 1_000_000_000L / ratePps));
    }
}

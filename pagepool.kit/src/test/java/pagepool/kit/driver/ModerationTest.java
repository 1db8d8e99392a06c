package pagepool.kit.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ModerationTest {

    /** Feeds the policy samples in which a wait of w µs gathers {@code batchAt.applyAsDouble(w)} events. */
    private static int settle(Moderation m, java.util.function.IntToDoubleFunction batchAt) {
        for (int i = 0; i < 200; i++) {
            m.step(batchAt.applyAsDouble(m.waitMicros()));
        }
        return m.waitMicros();
    }

    /** Samples spent waiting, of {@code n}. */
    private static int waiting(Moderation m, java.util.function.IntToDoubleFunction batchAt, int n) {
        int waited = 0;
        for (int i = 0; i < n; i++) {
            m.step(batchAt.applyAsDouble(m.waitMicros()));
            waited += m.waitMicros() > 0 ? 1 : 0;
        }
        return waited;
    }

    @Test
    void aSteadyRateLearnsToWaitForABatch() {
        // 200k/s arriving one by one: a wake with no wait finds 1.4; a wait of w gathers 0.2 per µs more.
        Moderation m = Moderation.adaptive();
        int w = settle(m, us -> 1.4 + 0.2 * us);
        assertEquals(128, w, "the first wait whose batch reaches " + Moderation.TARGET_BATCH);
    }

    @Test
    void burstsAreNotWaitedForBeyondTheBurst() {
        // 10k/s in bursts of 10 a millisecond: with no wait a wake finds 3; any wait gathers the burst, no more.
        Moderation m = Moderation.adaptive();
        int w = settle(m, us -> us == 0 ? 3 : 10);
        assertEquals(8, w, "the shortest wait that gathers the burst");
    }

    @Test
    void fullRateAndLowRatesDoNotWait() {
        assertEquals(0, waiting(Moderation.adaptive(), us -> 64, 340), "batches come by themselves");
        int tries = waiting(Moderation.adaptive(), us -> 1, 340);
        assertEquals(10, tries, "1k/s: a wait gathers nothing; it is tried one sample in "
                + (Moderation.HOLD_SAMPLES + 2));
    }

    @Test
    void onlyWakesWithEventsMakeASampleAndAFixedWaitNeverMoves() {
        Moderation m = Moderation.adaptive();
        for (int i = 0; i < 10 * Moderation.SAMPLE_WAKES; i++) {
            m.woke(0);
        }
        assertEquals(0, m.changes(), "timeouts and task wakes are no sample");
        Moderation fixed = Moderation.fixed(50);
        for (int i = 0; i < 10 * Moderation.SAMPLE_WAKES; i++) {
            fixed.woke(1);
        }
        assertEquals(50, fixed.waitMicros());
        assertEquals(Moderation.MAX_BATCH, fixed.batch());
        assertEquals("50 us", fixed.toString());
    }
}

package pagepool.kit.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ModerationTest {

    @Test
    void theWaitGathersABatchAtTheRateTheSenderSets() {
        assertEquals(0, Moderation.forRate(1_000), "1k/s: even the longest wait gathers too little");
        assertEquals(Moderation.MAX_MICROS, Moderation.forRate(10_000), "10k/s: the longest wait");
        assertEquals(160, Moderation.forRate(100_000));
        assertEquals(16, Moderation.forRate(1_000_000));
        assertEquals(0, Moderation.forRate(20_000_000), "a batch gathers by itself");
    }

    @Test
    void theAdaptivePolicyDecidesOncePerSampleAndAFixedOneNever() {
        Moderation m = Moderation.adaptive();
        for (int i = 0; i < Moderation.SAMPLE_WAKES - 1; i++) {
            m.woke(64);
        }
        assertEquals(0, m.waitMicros(), "no decision before a sample is complete");
        assertEquals(1, m.batch());
        m.woke(64); // 2,048 events in far less than a millisecond: a batch is there at every wake
        assertEquals(0, m.waitMicros());
        Moderation fixed = Moderation.fixed(50);
        for (int i = 0; i < 10 * Moderation.SAMPLE_WAKES; i++) {
            fixed.woke(1);
        }
        assertEquals(50, fixed.waitMicros());
        assertEquals(Moderation.MAX_BATCH, fixed.batch());
        assertEquals("50 us", fixed.toString());
    }
}

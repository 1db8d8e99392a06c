package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pagepool.api.testing.Await.await;

import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A plugin's reads under a budget: one overrun is owed until it answers, however the answer races the budget. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BoundedReadTest {

    private final Budget budget = new Budget();

    @AfterEach
    void close() {
        budget.close();
    }

    @Test
    void aReadThatOverrunsIsOwedAndTheNextIsRefusedWithoutAskingUntilItAnswers() throws Exception {
        BoundedRead reads = new BoundedRead(50);
        CountDownLatch answer = new CountDownLatch(1);
        Budget.OverBudgetException e = assertThrows(Budget.OverBudgetException.class,
                () -> reads.read(budget, "counters of x0", () -> {
                    answer.await();
                    return 1;
                }));
        assertEquals("counters of x0 did not answer within 50 ms", e.getMessage());
        BoundedRead.OwingException owing = assertThrows(BoundedRead.OwingException.class,
                () -> reads.read(budget, "counters of x0", () -> {
                    throw new AssertionError("asked while it owes an answer");
                }));
        assertTrue(owing.getMessage().matches("counters of x0 has not answered for \\d+ ms \\(expected: within 50 ms\\);"
                + " not asked again until it does"), owing.getMessage());

        answer.countDown();
        await("owed no more once it answered", () -> reads.owing() == null);
        assertEquals(2, reads.read(budget, "counters of x0", () -> 2));
    }

    @Test
    void anAnswerRacingItsBudgetNeverLeavesTheReadOwedForever() throws Exception {
        BoundedRead reads = new BoundedRead(0); // every answer races the caller giving up
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 3_000; i++) {
            long spin = rnd.nextLong(20_000);
            int n = i;
            CountDownLatch done = new CountDownLatch(1);
            try {
                reads.read(budget, "read " + i, () -> {
                    try {
                        for (long end = System.nanoTime() + spin; System.nanoTime() < end;) {
                            Thread.onSpinWait();
                        }
                        return n;
                    } finally {
                        done.countDown();
                    }
                });
            } catch (Budget.OverBudgetException e) {
                // overran: owed until it answers (never owing here: the loop waits for that to clear)
            }
            assertTrue(done.await(10, TimeUnit.SECONDS), "read " + i + " was asked: the one before answered");
            await("read " + i + " owed no more once it answered", () -> reads.owing() == null);
        }
        assertNull(reads.owing());
    }
}

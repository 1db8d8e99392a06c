package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A caller that gives up waiting for the engine thread is told the truth about its change. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EngineThreadTest {

    @Test
    void workThatNeverStartedIsTakenBackSoItsRefusalIsTrue() throws InterruptedException {
        try (EngineThread thread = new EngineThread(200)) {
            CountDownLatch blocked = new CountDownLatch(1);
            thread.post("a slow provider's work", () -> {
                try {
                    blocked.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            AtomicBoolean applied = new AtomicBoolean();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> thread.call(() -> {
                applied.set(true);
                return null;
            }));
            assertEquals("the engine thread was busy for 200 ms with earlier work: nothing changed (expected: an engine"
                    + " that is not blocked; try again)", e.getMessage());
            blocked.countDown();
            assertEquals("after", thread.call(() -> "after"), "the thread goes on");
            assertFalse(applied.get(), "the change it refused never took effect");
        }
    }

    @Test
    void workThatStartedIsWaitedForAndItsResultGiven() {
        try (EngineThread thread = new EngineThread(1_000)) {
            assertEquals("done", thread.call(() -> {
                Thread.sleep(1_200); // longer than one wait, well within two
                return "done";
            }));
        }
    }
}

package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A caller that gives up waiting for the engine thread is told the truth about its change; a
 * plugin call made inline on the engine thread that overruns its budget loses the turn, and the
 * engine goes on without it.
 */
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

    @Test
    void aPluginCallThatAnswersInTimeRunsOnTheEngineThreadItself() {
        try (EngineThread thread = new EngineThread(1_000)) {
            Thread[] ran = new Thread[2];
            String v = thread.call(() -> {
                ran[0] = Thread.currentThread();
                return thread.inline("a quick call", 1_000, () -> {
                    ran[1] = Thread.currentThread();
                    return "answer";
                }, late -> { }, () -> { });
            });
            assertEquals("answer", v);
            assertSame(ran[0], ran[1], "no hop to another thread");
        }
    }

    @Test
    void aPluginCallPastItsBudgetLosesTheTurnAndItsThreadFinishesAloneWhenItAnswers() throws Exception {
        try (EngineThread thread = new EngineThread(10_000)) {
            CountDownLatch plugin = new CountDownLatch(1);
            AtomicBoolean settled = new AtomicBoolean();
            AtomicReference<String> late = new AtomicReference<>();
            AtomicReference<Thread> stuck = new AtomicReference<>();
            AtomicBoolean otherWorkRuns = new AtomicBoolean();
            AtomicReference<String> continuation = new AtomicReference<>();
            AtomicReference<Object> answer = new AtomicReference<>();
            Thread caller = new Thread(() -> answer.set(thread.call(() -> {
                stuck.set(Thread.currentThread());
                thread.answerFromState(() -> "from the engine's state");
                try {
                    thread.inline("a hanging call", 100, () -> {
                        plugin.await();
                        return "late answer";
                    }, late::set, () -> settled.set(true));
                    continuation.set("answered in time?");
                } catch (Budget.OverBudgetException e) {
                    continuation.set((e.settled() ? "settled" : "not settled") + ", other work running: "
                            + otherWorkRuns.get());
                }
                return "finished";
            })));
            caller.start();
            caller.join(10_000);

            assertEquals("from the engine's state", answer.get(), "the caller is answered once the overrun is settled");
            assertTrue(settled.get());
            assertEquals("the stuck thread waited for the turn", thread.call(() -> {
                otherWorkRuns.set(true);
                assertEquals(null, continuation.get(), "nothing of the stuck work ran meanwhile");
                plugin.countDown(); // the plugin answers while this work holds the turn
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (System.nanoTime() - until < 0 && (late.get() == null
                        || stuck.get().getState() != Thread.State.WAITING) && continuation.get() == null) {
                    Thread.onSpinWait(); // back from the plugin, its clean-up done, it waits for the turn
                }
                otherWorkRuns.set(false);
                return continuation.get() == null ? "the stuck thread waited for the turn" : "it did not";
            }));
            await("the stuck thread finishes its work alone and ends", () -> continuation.get() != null
                    && !stuck.get().isAlive());
            assertEquals("settled, other work running: false", continuation.get());
            assertEquals("late answer", late.get(), "the late answer went to its clean-up");
            assertEquals("goes on", thread.call(() -> "goes on"));
        }
    }

    @Test
    void aPluginThatAsksTheEngineFromInsideItsCallIsServedOnceItsBudgetRunsOut() throws Exception {
        try (EngineThread thread = new EngineThread(10_000)) {
            AtomicReference<String> late = new AtomicReference<>();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> thread.call(() -> {
                try {
                    return thread.inline("a re-entrant call", 100, () -> thread.call(() -> "served"), late::set, () -> { });
                } catch (Budget.OverBudgetException over) {
                    return "over budget";
                }
            }));
            assertEquals("not finished yet: a re-entrant call did not answer within 100 ms; the engine went on without"
                    + " it, and the rest takes effect when it answers (see the bindings and queues lists)", e.getMessage());
            await("the plugin's own request ran on the engine's new thread", () -> "served".equals(late.get()));
        }
    }

    @Test
    void aThreadBackFromAPluginAfterTheEngineStoppedDoesNoMoreEngineWork() throws Exception {
        CountDownLatch plugin = new CountDownLatch(1);
        AtomicReference<String> after = new AtomicReference<>();
        EngineThread thread = new EngineThread(10_000);
        thread.post("work that calls a hanging plugin", () -> {
            try {
                thread.inline("a hanging call", 100, () -> {
                    plugin.await();
                    return "late";
                }, null, () -> { });
                after.set("went on with its late answer");
            } catch (Exception e) {
                after.set(e.getMessage());
            }
        });
        assertEquals("served", thread.call(() -> "served"), "the engine went on without it");
        thread.close();

        plugin.countDown();
        await("the stuck thread is back", () -> after.get() != null);
        assertEquals("the pagepool engine stopped while a hanging call was under way", after.get());
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(5);
        }
    }
}

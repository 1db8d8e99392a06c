package pagepool.kit.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;

import pagepool.api.QueueId;
import pagepool.api.queue.QueueOperationException;

class NapiLoopTest {

    private static final QueueId Q = new QueueId("test0", 1);

    /** Polls by sleeping until woken, as a driver waiting for traffic. */
    private static final class Sleeper implements NapiLoop.Poll {
        final AtomicInteger polls = new AtomicInteger();
        final AtomicInteger failures = new AtomicInteger();
        volatile RuntimeException next;
        volatile NapiLoop loop;

        @Override
        public void poll() {
            polls.incrementAndGet();
            RuntimeException e = next;
            if (e != null) {
                next = null;
                throw e;
            }
            if (loop.idle()) {
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(5));
            }
        }

        @Override
        public void failed(Throwable t) {
            failures.incrementAndGet();
        }
    }

    /**
     * Polls a "ring" that must never be touched by two threads at once, and sleeps apart from it
     * (as the simulated NIC does): counts rounds and any overlap it sees.
     */
    private static class ApartPoller implements NapiLoop.Poll {
        final AtomicInteger inside = new AtomicInteger();
        final AtomicInteger overlaps = new AtomicInteger();
        final AtomicInteger polls = new AtomicInteger();
        final long sleepNanos;

        ApartPoller(long sleepNanos) {
            this.sleepNanos = sleepNanos;
        }

        /** Holds the "ring" for a moment, as a poll or an operation does. */
        void touch() {
            if (inside.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
            for (int i = 0; i < 200; i++) {
                Thread.onSpinWait();
            }
            inside.decrementAndGet();
        }

        @Override
        public void poll() {
            polls.incrementAndGet();
            touch();
        }

        @Override
        public boolean waitsApart() {
            return true;
        }

        /** Sleeps; with 0, spins a moment instead, so polls come back to back. */
        @Override
        public void await() {
            if (sleepNanos > 0) {
                LockSupport.parkNanos(sleepNanos);
            } else {
                for (int i = 0; i < 200; i++) {
                    Thread.onSpinWait();
                }
            }
        }

        @Override
        public void failed(Throwable t) {
        }
    }

    private static NapiLoop started(Sleeper s, long timeoutNanos) {
        NapiLoop loop = new NapiLoop("napi-test", s, timeoutNanos);
        s.loop = loop;
        return loop.start();
    }

    @Test
    void anOperationRunsOnTheLoopsThreadAndWakesItsSleep() throws Exception {
        Sleeper s = new Sleeper();
        NapiLoop loop = started(s, TimeUnit.SECONDS.toNanos(10));
        try {
            long t0 = System.nanoTime();
            Thread on = loop.call(Q, Thread::currentThread);
            assertEquals("napi-test", on.getName());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(4), "the call woke the 5 s sleep");
            assertSame(on, loop.call(Q, () -> loop.call(Q, Thread::currentThread)), "a call from the loop runs at once");
        } finally {
            loop.close();
        }
        assertFalse(loop.alive());
        assertEquals("queue test0/1 is closed", assertThrows(QueueOperationException.class, () -> loop.call(Q, () -> 1))
                .getMessage());
    }

    @Test
    void whatAnOperationThrowsReachesTheCallerNamingTheQueue() {
        NapiLoop loop = started(new Sleeper(), TimeUnit.SECONDS.toNanos(10));
        try {
            QueueOperationException own = new QueueOperationException("queue test0/1 is running");
            assertSame(own, assertThrows(QueueOperationException.class, () -> loop.call(Q, () -> {
                throw own;
            })));
            assertEquals("queue test0/1: ring corrupt", assertThrows(QueueOperationException.class, () -> loop.call(Q,
                    () -> {
                        throw new IllegalStateException("ring corrupt");
                    })).getMessage());
        } finally {
            loop.close();
        }
    }

    @Test
    void anAnswerThatComesTooLateIsHandedToTheCleanUp() throws Exception {
        NapiLoop loop = started(new Sleeper(), TimeUnit.MILLISECONDS.toNanos(100));
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Object> late = new AtomicReference<>();
        CountDownLatch cleaned = new CountDownLatch(1);
        try {
            Object memory = new Object();
            QueueOperationException e = assertThrows(QueueOperationException.class, () -> loop.call(Q, () -> {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
                return memory;
            }, m -> {
                late.set(m);
                cleaned.countDown();
            }));
            assertEquals("queue test0/1: its NAPI thread did not answer within 100 ms", e.getMessage());
            release.countDown();
            assertTrue(cleaned.await(10, TimeUnit.SECONDS));
            assertSame(memory, late.get(), "memory allocated after the caller gave up is freed, not left behind");
        } finally {
            release.countDown();
            loop.close();
        }
    }

    @Test
    void theLoopSurvivesAPollThatThrows() throws Exception {
        Sleeper s = new Sleeper();
        NapiLoop loop = started(s, TimeUnit.SECONDS.toNanos(10));
        try {
            s.next = new IllegalStateException("bad descriptor");
            loop.wake();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (s.failures.get() == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(1, s.failures.get());
            assertEquals(7, loop.call(Q, () -> 7), "the loop goes on");
        } finally {
            loop.close();
        }
    }

    @Test
    void aSetUpThatFailsFailsTheStart() {
        NapiLoop loop = new NapiLoop("napi-test", new NapiLoop.Poll() {
            @Override
            public void setUp() {
                throw new IllegalStateException("io_uring_setup: ENOSYS");
            }

            @Override
            public void poll() {
            }

            @Override
            public void failed(Throwable t) {
            }
        });
        assertEquals("io_uring_setup: ENOSYS", assertThrows(IllegalStateException.class, loop::start).getMessage());
    }

    @Test
    void aHeldOperationRunsOnItsCallersThreadWhileTheLoopWaitsApart() throws Exception {
        ApartPoller p = new ApartPoller(TimeUnit.SECONDS.toNanos(5));
        NapiLoop loop = new NapiLoop("napi-test", p).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (p.polls.get() == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            int polls = p.polls.get();
            assertSame(Thread.currentThread(), loop.callHeld(Q, Thread::currentThread),
                    "no hand-off: the loop sleeps apart from the queue");
            assertEquals(polls, p.polls.get(), "the sleeping loop was not woken");
            assertEquals("napi-test", loop.call(Q, () -> Thread.currentThread().getName()),
                    "an operation that allocates still runs on the loop");
            assertEquals("queue test0/1: ring gone", assertThrows(QueueOperationException.class,
                    () -> loop.callHeld(Q, () -> {
                        throw new IllegalStateException("ring gone");
                    })).getMessage(), "what it throws is named as a handed-over operation's is");
            assertEquals(7, loop.callHeld(Q, () -> 7), "the context was given back");
        } finally {
            loop.close();
        }
        assertFalse(loop.alive());
    }

    @Test
    void aHeldOperationRunsOnTheLoopWhenItsWaitIsNotApart() throws Exception {
        NapiLoop loop = started(new Sleeper(), TimeUnit.SECONDS.toNanos(10));
        try {
            assertEquals("napi-test", loop.callHeld(Q, () -> Thread.currentThread().getName()));
        } finally {
            loop.close();
        }
    }

    @Test
    void aHeldOperationNeverOverlapsAPollAndTheLoopGoesOn() throws Exception {
        // The loop polls back to back while the test thread takes the context 20,000 times.
        ApartPoller p = new ApartPoller(0);
        NapiLoop loop = new NapiLoop("napi-test", p).start();
        try {
            int onCaller = 0;
            for (int i = 0; i < 20_000; i++) {
                Thread ran = loop.callHeld(Q, () -> {
                    p.touch();
                    return Thread.currentThread();
                });
                if (ran == Thread.currentThread()) {
                    onCaller++;
                }
            }
            assertEquals(0, p.overlaps.get(), "a poll and an operation held the queue at once");
            assertTrue(onCaller > 0, "some operations ran on the caller: " + onCaller);
            int polls = p.polls.get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (p.polls.get() < polls + 10 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertTrue(p.polls.get() >= polls + 10, "the loop polls on after the callers let go");
        } finally {
            loop.close();
        }
        assertEquals(0, p.overlaps.get());
    }

    @Test
    void aHeldOperationWaitsBehindTasksQueuedBeforeIt() throws Exception {
        // The loop sleeps apart until told: a task queued meanwhile waits, and so must a held operation after it.
        CountDownLatch asleep = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        ApartPoller p = new ApartPoller(0) {
            @Override
            public void await() {
                asleep.countDown();
                try {
                    go.await(10, TimeUnit.SECONDS); // a wake does not end this sleep
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        NapiLoop loop = new NapiLoop("napi-test", p).start();
        java.util.List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
        try {
            assertTrue(asleep.await(10, TimeUnit.SECONDS));
            loop.submit(() -> order.add("queued"));
            // Lets the loop go on a little later: time enough for a held operation that jumped the queue to show.
            Thread later = new Thread(() -> {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
                go.countDown();
            });
            later.start();
            loop.callHeld(Q, () -> order.add("held"));
            assertEquals(java.util.List.of("queued", "held"), order);
        } finally {
            go.countDown();
            loop.close();
        }
    }
}

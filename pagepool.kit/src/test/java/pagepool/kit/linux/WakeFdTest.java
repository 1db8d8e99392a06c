package pagepool.kit.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;
import pagepool.kit.linux.WakeFd;

/** A wake racing the queue's tear-down never writes into a descriptor number that was closed. */
class WakeFdTest {

    @Test
    void wakesAndCloseFromTwoThreadsNeverWriteAfterTheClose() throws InterruptedException {
        int rounds = 5_000;
        AtomicIntegerArray closed = new AtomicIntegerArray(rounds); // 1 once round i's fd is closed (and reusable)
        AtomicInteger writesAfterClose = new AtomicInteger();
        AtomicInteger writes = new AtomicInteger();
        for (int i = 0; i < rounds; i++) {
            int round = i;
            WakeFd w = new WakeFd(round, new WakeFd.Ops() {
                @Override
                public void signal(int fd) {
                    if (closed.get(fd) == 1) {
                        writesAfterClose.incrementAndGet(); // would land in whatever reused the number
                    }
                    writes.incrementAndGet();
                }

                @Override
                public void close(int fd) {
                    closed.set(fd, 1);
                }
            });
            CountDownLatch go = new CountDownLatch(1);
            Thread waker = new Thread(() -> {
                await(go);
                for (int k = 0; k < 3; k++) {
                    w.signal();
                }
            });
            waker.start();
            go.countDown();
            w.close();
            waker.join();
            w.close(); // twice is harmless
        }
        assertEquals(0, writesAfterClose.get(), "of " + writes.get() + " wakes");
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class RecycleRingTest {

    @Test
    void capacityIsRoundedUpToAPowerOfTwo() {
        assertEquals(1, new RecycleRing<>(1).capacity());
        assertEquals(4, new RecycleRing<>(3).capacity());
        assertEquals(1024, new RecycleRing<>(1024).capacity());
        assertEquals(16384, new RecycleRing<>(16383).capacity());
    }

    @Test
    void firstInFirstOutUntilFull() {
        RecycleRing<Integer> ring = new RecycleRing<>(4);
        assertTrue(ring.isEmpty());
        for (int i = 0; i < 4; i++) {
            assertTrue(ring.offer(i));
        }
        assertFalse(ring.offer(99), "full");
        assertEquals(4, ring.size());
        assertEquals(0, ring.poll());
        assertTrue(ring.offer(4), "room again after a poll");
        for (int i = 1; i <= 4; i++) {
            assertEquals(i, ring.poll());
        }
        assertNull(ring.poll());
        assertEquals(5, ring.offered());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void twoProducersOneConsumerLoseAndDuplicateNothing() throws InterruptedException {
        int perProducer = 500_000;
        RecycleRing<Integer> ring = new RecycleRing<>(64);
        Thread[] producers = new Thread[2];
        for (int p = 0; p < producers.length; p++) {
            int base = p * perProducer;
            producers[p] = new Thread(() -> {
                for (int i = 0; i < perProducer; i++) {
                    while (!ring.offer(base + i)) {
                        Thread.onSpinWait();
                    }
                }
            });
            producers[p].start();
        }
        boolean[] seen = new boolean[2 * perProducer];
        int[] lastOf = {-1, -1};
        for (int taken = 0; taken < seen.length;) {
            Integer v = ring.poll();
            if (v == null) {
                Thread.onSpinWait();
                continue;
            }
            assertFalse(seen[v], "duplicate " + v);
            seen[v] = true;
            int producer = v / perProducer;
            assertTrue(v > lastOf[producer], "each producer's order is kept");
            lastOf[producer] = v;
            taken++;
        }
        for (Thread t : producers) {
            t.join();
        }
        assertTrue(ring.isEmpty());
        assertEquals(2L * perProducer, ring.offered());
    }
}

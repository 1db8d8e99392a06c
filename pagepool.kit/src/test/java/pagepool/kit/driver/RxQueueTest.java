package pagepool.kit.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import pagepool.api.PagePool;
import pagepool.api.queue.QueueDebug.ResetMode;
import pagepool.api.queue.QueueMemory;
import pagepool.api.queue.QueueOperationException;

/** The kit's queue state machine, on a device whose hardware only records what it is told. */
class RxQueueTest {

    static final class Mem implements QueueMemory {
        final int queue;
        boolean unusable;
        volatile boolean freed;
        /** Whether the hardware let go of it, and whether on the queue's thread; the thread that freed it. */
        volatile boolean letGo;
        volatile boolean letGoOnLoop;
        volatile Thread freedOn;

        Mem(int queue) {
            this.queue = queue;
        }

        @Override
        public int queue() {
            return queue;
        }

        @Override
        public PagePool pool() {
            return null;
        }
    }

    static final class Queue extends RxQueue<Mem> implements NapiLoop.Poll {
        final List<String> calls = new ArrayList<>();
        volatile boolean fillFails;
        volatile boolean hardwareLetsGoOnLoop;
        volatile boolean letGoFails;

        Queue(Device device, int index) {
            super(device, index, new QueueCounters("packets", QueueCounters.RESTARTS, QueueCounters.ERRORS));
            runOn(new NapiLoop("napi-fake-" + index, this));
        }

        @Override
        protected Mem allocate() {
            return new Mem(index);
        }

        @Override
        protected void fill(Mem m) throws QueueOperationException {
            assertFalse(loop().isCurrent(), "filled on the caller's thread: NAPI goes on polling");
            if (fillFails) {
                throw new QueueOperationException("queue " + id + ": provider 'x' gave 3 of 16 RX buffers");
            }
        }

        @Override
        protected String unusable(Mem m) {
            return m.unusable ? "buffer beyond the NIC's 32-bit DMA mask" : null;
        }

        @Override
        protected void stopping(Mem old, boolean receiveFirst) {
            calls.add("stopping receiveFirst=" + receiveFirst);
        }

        @Override
        protected void starting(Mem m) {
            calls.add("starting");
        }

        @Override
        protected void swapping(Mem old, Mem m) {
            calls.add("swapping");
        }

        @Override
        protected boolean letsGoOnLoop() {
            return hardwareLetsGoOnLoop;
        }

        @Override
        protected void letGo(Mem m) throws QueueOperationException {
            if (letGoFails) {
                throw new QueueOperationException("queue " + id + ": the ring would not unregister");
            }
            m.letGo = true;
            m.letGoOnLoop = loop().isCurrent();
        }

        @Override
        protected void free(Mem m) {
            m.freed = true;
            m.freedOn = Thread.currentThread();
        }

        @Override
        public void poll() {
            if (loop().idle()) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            }
        }
    }

    static final class Device extends RxDevice<Queue, Mem> {
        Device() {
            super("fake0", Mem.class, true, true);
            queues(new Queue[] {new Queue(this, 0), new Queue(this, 1)});
            for (Queue q : queues()) {
                q.loop().start();
            }
        }

        @Override
        public boolean headerSplit() {
            return false;
        }

        @Override
        public void close() {
            closeQueues();
            for (Queue q : queues()) {
                q.loop().close();
            }
        }
    }

    private final Device device = new Device();

    @AfterEach
    void close() {
        device.close();
    }

    @Test
    void aQueueStartsStopsAndSwapsAndSaysWhenItCannot() throws Exception {
        QueueMemory first = device.queueOps().memAlloc(0);
        assertNull(device.queueOps().stop(0), "a stopped queue hands back no memory");
        device.queueOps().start(0, first);
        assertTrue(device.queueOps().canSwap(0));
        assertEquals("queue fake0/0 is running (expected: a stopped queue)", assertThrows(QueueOperationException.class,
                () -> device.queueOps().start(0, device.queueOps().memAlloc(0))).getMessage());
        QueueMemory second = device.queueOps().memAlloc(0);
        assertSame(first, device.queueOps().swap(0, second));
        assertSame(second, device.queueOps().stop(0));
        assertEquals("queue fake0/0 is stopped (expected: a running queue)", assertThrows(QueueOperationException.class,
                () -> device.queueOps().swap(0, first)).getMessage());
        assertEquals(List.of("starting", "swapping", "stopping receiveFirst=true"), device.queues()[0].calls);
        assertEquals(1L, device.queueStats(0).get("restarts"), "a swap is a restart; the first start is not");
    }

    @Test
    void memoryOfAnotherQueueOrDriverIsRefused() throws Exception {
        QueueMemory ofOne = device.queueOps().memAlloc(1);
        assertEquals("queue fake0/0: memory " + ofOne + " was not allocated for it by memAlloc", assertThrows(
                QueueOperationException.class, () -> device.queueOps().start(0, ofOne)).getMessage());
        assertEquals("queue: 7 (expected: 0..1 on fake0)", assertThrows(QueueOperationException.class,
                () -> device.queueOps().memAlloc(7)).getMessage());
        device.queueOps().memFree(ofOne);
        assertTrue(((Mem) ofOne).freed);
    }

    @Test
    void aFailedStartOrSwapChangesNothing() throws Exception {
        Mem bad = (Mem) device.queueOps().memAlloc(0);
        bad.unusable = true;
        assertEquals("queue fake0/0: buffer beyond the NIC's 32-bit DMA mask", assertThrows(QueueOperationException.class,
                () -> device.queueOps().start(0, bad)).getMessage());
        assertFalse(device.queues()[0].running(), "still stopped");
        assertFalse(bad.freed, "the memory is still the caller's");
        QueueMemory good = device.queueOps().memAlloc(0);
        device.queueOps().start(0, good);
        assertThrows(QueueOperationException.class, () -> device.queueOps().swap(0, bad));
        assertSame(good, device.queues()[0].published(), "still on its old memory");
    }

    @Test
    void hardwareThatLetsGoOnTheQueuesThreadDoesThereAndThePagesGoBackOnTheCallers() throws Exception {
        Queue q = device.queues()[0];
        q.hardwareLetsGoOnLoop = true;
        device.queueOps().start(0, device.queueOps().memAlloc(0));
        Mem old = (Mem) device.queueOps().swap(0, device.queueOps().memAlloc(0));
        device.queueOps().memFree(old);
        assertTrue(old.letGo && old.letGoOnLoop, "the hardware let go on the queue's thread");
        assertSame(Thread.currentThread(), old.freedOn, "freed on the caller's: the NAPI thread goes on polling");
        Mem running = (Mem) q.published();
        device.queueOps().memFree(running);
        assertFalse(running.letGo || running.freed, "the memory the queue runs on is neither let go of nor freed");
        q.letGoFails = true;
        Mem stuck = (Mem) device.queueOps().swap(0, device.queueOps().memAlloc(0));
        device.queueOps().memFree(stuck);
        assertFalse(stuck.freed, "not freed while the hardware may still write into it");
    }

    @Test
    void memoryThatCannotBeFilledIsFreed() {
        device.queues()[1].fillFails = true;
        assertEquals("queue fake0/1: provider 'x' gave 3 of 16 RX buffers", assertThrows(QueueOperationException.class,
                () -> device.queueOps().memAlloc(1)).getMessage());
    }

    @Test
    void resetModesDecideTheNapiContextAndWhetherAStopReceivesFirst() throws Exception {
        device.queueOps().start(0, device.queueOps().memAlloc(0));
        long napi = device.queueStats(0).get("napi-id");
        device.queueOps().swap(0, device.queueOps().memAlloc(0));
        assertEquals(napi, device.queueStats(0).get("napi-id"), "POOL keeps the NAPI context");
        device.resetMode(ResetMode.NAPI);
        device.queueOps().swap(0, device.queueOps().memAlloc(0));
        assertNotEquals(napi, device.queueStats(0).get("napi-id"), "NAPI gets a new one at the switch");
        device.resetMode(ResetMode.NAPI_STOPPED_FIRST);
        assertFalse(device.queueOps().canSwap(0), "stopped first: no swap");
        device.queueOps().memFree(device.queueOps().stop(0));
        assertEquals("stopping receiveFirst=false", device.queues()[0].calls.get(device.queues()[0].calls.size() - 1));
    }

    @Test
    void aFailureIsCountedAndClearedByTheNextStart() throws Exception {
        Queue q = device.queues()[0];
        device.queueOps().start(0, device.queueOps().memAlloc(0));
        q.failed(new IllegalStateException("ring corrupt"));
        assertEquals("NAPI: IllegalStateException: ring corrupt", device.queueFault(0));
        assertEquals(1L, device.queueStats(0).get("errors"));
        device.queueOps().memFree(device.queueOps().stop(0));
        device.queueOps().start(0, device.queueOps().memAlloc(0));
        assertNull(device.queueFault(0));
    }
}

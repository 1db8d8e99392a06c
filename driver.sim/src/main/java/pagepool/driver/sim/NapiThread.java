package pagepool.driver.sim;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A NAPI thread: polls the queues given to it in turn, runs their queue operations between two
 * polls, and sleeps when none has work. Queues share NAPI threads as a NIC's queues share IRQ
 * vectors and cores, so a device may have far more queues than the machine has cores. The thread
 * survives whatever a poll meets: that queue is failed with the reason, the others go on.
 */
final class NapiThread implements Runnable {

    private final Thread thread;
    private final List<SimQueue> queues;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private volatile boolean closing;

    NapiThread(String name, List<SimQueue> queues) {
        this.queues = List.copyOf(queues);
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    /** Ends a sleep between polls. */
    void wake() {
        LockSupport.unpark(thread);
    }

    /** Runs {@code task} on this thread between two polls. */
    void submit(Runnable task) {
        tasks.add(task);
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        while (!closing) {
            for (Runnable t; (t = tasks.poll()) != null;) {
                t.run(); // queue operations complete their own futures, errors included
            }
            int work = 0;
            long sleep = Long.MAX_VALUE;
            for (SimQueue q : queues) {
                try {
                    work += q.poll();
                } catch (Throwable e) {
                    q.failed(e);
                }
                sleep = Math.min(sleep, q.nanosToNextPacket());
            }
            if (work == 0 && tasks.isEmpty()) {
                LockSupport.parkNanos(sleep);
            }
        }
    }

    void close() throws InterruptedException {
        closing = true;
        LockSupport.unpark(thread);
        thread.join(TimeUnit.SECONDS.toMillis(10));
    }
}

package pagepool.driver.sim;

import java.util.List;
import java.util.concurrent.locks.LockSupport;

import pagepool.kit.driver.NapiLoop;

/**
 * What a simulated NAPI thread does: polls the queues given to it in turn and sleeps until the
 * next packet is due when none had work. Queues share NAPI threads as a NIC's queues share IRQ
 * vectors and cores, so a device may have far more queues than the machine has cores. A poll
 * that throws fails that queue with the reason; the others go on.
 */
final class NapiPoll implements NapiLoop.Poll {

    private final List<SimQueue> queues;
    /** The last round's packets and the time to the next one due; the loop's thread only. */
    private int work;
    private long sleep;

    NapiPoll(List<SimQueue> queues) {
        this.queues = List.copyOf(queues);
    }

    NapiLoop loop(String name) {
        NapiLoop loop = new NapiLoop(name, this);
        queues.forEach(q -> q.runOn(loop));
        return loop;
    }

    @Override
    public void poll() {
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
        this.work = work;
        this.sleep = sleep;
    }

    /** The sleep touches no queue: a swap meanwhile runs on its caller's thread (the loop lets go of NAPI). */
    @Override
    public boolean waitsApart() {
        return true;
    }

    @Override
    public void await() {
        if (work == 0) {
            LockSupport.parkNanos(sleep);
        }
    }

    @Override
    public void failed(Throwable t) {
        // Each queue's poll is guarded above; what else threw is not one queue's: every queue fails.
        queues.forEach(q -> q.failed(t));
    }
}

package pagepool.tck;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;

import pagepool.api.PagePoolFactory;
import pagepool.api.binding.QueueInfo;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueDebug;
import pagepool.api.queue.QueueMemory;
import pagepool.api.queue.QueueMgmtOps;
import pagepool.api.queue.QueueOperationException;
import pagepool.engine.StandaloneEngine;
import pagepool.tck.ConformanceReport.Result;
import pagepool.tck.Promises.Promise;
import pagepool.tck.Promises.Skip;

/**
 * The promises of a driver's side of the contract ({@link NetDevice} and its
 * {@link QueueMgmtOps}), checked on the driver's device running on the engine
 * ({@link StandaloneEngine}) with memory from a provider of the kit's that keeps a ledger of every
 * page: each promise on a fresh device, in a thread of its own with a deadline.
 *
 * <pre>{@code
 * ConformanceReport r = DriverConformance.check(new DriverConformance.Subject() {
 *     public NetDevice open(PagePoolFactory pools) { return new MyDevice(settings, pools); }
 *     public long send(NetDevice d, long count) { return myTrafficTo(d, count); }
 * });
 * }</pre>
 */
public final class DriverConformance {

    static final long DEADLINE_MILLIS = 60_000;
    static final long WAIT_MILLIS = 20_000;

    /** What the kit needs of a driver: its device, and traffic to it. */
    public interface Subject extends DeviceTraffic {
        /** Builds a device on the engine's pool factory, every queue stopped (the engine starts them). */
        NetDevice open(PagePoolFactory pools) throws Exception;

        default void close(NetDevice device) throws Exception {
            if (device instanceof AutoCloseable c) {
                c.close();
            }
        }
    }

    private static final List<Promise<Session>> PROMISES = List.of(
            new Promise<>("device", "the device has a name, at least one queue and its queue ops",
                    DriverConformance::device),
            new Promise<>("starts", "every queue starts on the engine's memory, and posts pages of it",
                    DriverConformance::starts),
            new Promise<>("mem-alloc-free", "memAlloc gives memory of that queue with a pool; memFree of memory no queue"
                    + " runs on gives every page back", DriverConformance::memAllocFree),
            new Promise<>("stop-start", "stop returns the memory the queue ran on, and null when stopped; start resumes on"
                    + " it; start on a running queue or with another queue's memory is refused",
                    DriverConformance::stopStart),
            new Promise<>("alloc-failure", "when the provider gives no pages, memAlloc fails with a QueueOperationException,"
                    + " keeps no page, and the queue runs on", DriverConformance::allocFailure),
            new Promise<>("swap", "a device that says it can swap (make-before-break) returns the old memory and runs on"
                    + " the new", DriverConformance::swap),
            new Promise<>("link-down-up", "link down stops every queue and gives every page back; link up starts them"
                    + " again", DriverConformance::linkDownUp),
            new Promise<>("page-hold", "a held page keeps its pool until it is given back (QueueDebug)",
                    DriverConformance::pageHold),
            new Promise<>("reset-modes", "a queue restarts in every reset mode", DriverConformance::resetModes),
            new Promise<>("accounting", "every packet sent is received or dropped, counted: sent = received + dropped + missed",
                    DriverConformance::accounting),
            new Promise<>("counters-monotonic", "received, dropped, restarts and errors never go down",
                    DriverConformance::monotonic),
            new Promise<>("close", "closing the device gives every page back and every pool is destroyed",
                    DriverConformance::close));

    private DriverConformance() {
    }

    public static List<String> promises() {
        return PROMISES.stream().map(Promise::name).toList();
    }

    public static ConformanceReport check(Subject subject) {
        List<Result> results = new ArrayList<>();
        String name = "a driver";
        for (Promise p : PROMISES) {
            Result r = run(p, subject);
            results.add(r);
        }
        try (Session s = new Session(subject)) {
            name = "driver of device '" + s.device.name() + "'";
        } catch (Exception e) {
            name = "a driver whose device cannot be opened: " + e;
        }
        return new ConformanceReport(name, results);
    }

    public static Stream<DynamicTest> tests(Subject subject) {
        return Promises.tests(PROMISES, p -> run(p, subject));
    }

    private static Result run(Promise<Session> p, Subject subject) {
        return Promises.run(p, () -> new Session(subject), DEADLINE_MILLIS, "a device call hangs");
    }

    /** A device of the subject's on an engine whose only provider is the kit's ledger. */
    private static final class Session implements AutoCloseable {
        final Subject subject;
        final StandaloneEngine engine = new StandaloneEngine(10, 60_000);
        final LedgerProvider memory = new LedgerProvider();
        final NetDevice device;
        boolean closed;

        Session(Subject subject) throws Exception {
            this.subject = subject;
            engine.addProvider(memory, true);
            NetDevice d;
            try {
                d = subject.open(engine.factory());
            } catch (Exception | Error e) {
                engine.close();
                throw e;
            }
            this.device = d;
            engine.addDevice(device);
        }

        String awaitRunning() throws InterruptedException {
            return await(() -> queues().stream().allMatch(q -> q.state() == QueueInfo.State.OK)) ? null
                    : "queues not running on the engine's memory after " + WAIT_MILLIS + " ms: " + queues();
        }

        List<QueueInfo> queues() {
            return engine.bindings().queues().stream().filter(q -> q.queue().device().equals(device.name())).toList();
        }

        long total(String counter) {
            long n = 0;
            for (int q = 0; q < device.rxQueueCount(); q++) {
                Long v = device.queueStats(q).get(counter);
                n += v == null ? 0 : v;
            }
            return n;
        }

        @Override
        public void close() throws Exception {
            try {
                if (!closed) {
                    engine.removeDevice(device);
                    subject.close(device);
                }
            } finally {
                engine.close();
            }
        }
    }

    static boolean await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    // ---- the checks ----------------------------------------------------------------------------------------

    private static String device(Session s) {
        NetDevice d = s.device;
        if (d.name() == null || d.name().isBlank()) {
            return "name() = '" + d.name() + "'";
        }
        if (d.rxQueueCount() < 1) {
            return "rxQueueCount() = " + d.rxQueueCount() + " (expected: at least 1)";
        }
        return d.queueOps() == null ? "queueOps() = null" : null;
    }

    private static String starts(Session s) throws Exception {
        String broken = s.awaitRunning();
        if (broken != null) {
            return broken;
        }
        return s.memory.pagesOut.get() > 0 ? null : "every queue runs but no page of the engine's memory is out";
    }

    private static String memAllocFree(Session s) throws Exception {
        String broken = s.awaitRunning();
        if (broken != null) {
            return broken;
        }
        QueueMemory m = s.device.queueOps().memAlloc(0);
        if (m == null || m.queue() != 0 || m.pool() == null) {
            return "memAlloc(0) = " + m + (m == null ? "" : " of queue " + m.queue() + ", pool " + m.pool());
        }
        pagepool.api.PagePool pool = m.pool();
        if (pool.info().inflight() == 0) {
            return "memAlloc(0) gave memory whose pool " + pool.id() + " has no page out (expected: a filled ring)";
        }
        s.device.queueOps().memFree(m);
        return await(() -> pool.info().state() == pagepool.api.PoolInfo.State.DESTROYED) ? null : "after memFree the"
                + " pool " + pool.id() + " is " + pool.info().state() + " with " + pool.info().inflight()
                + " pages out (expected: DESTROYED, every page back)";
    }

    private static String stopStart(Session s) throws Exception {
        String broken = s.awaitRunning();
        if (broken != null) {
            return broken;
        }
        QueueMgmtOps ops = s.device.queueOps();
        QueueMemory m = ops.stop(0);
        if (m == null) {
            return "stop(0) of a running queue returned null";
        }
        QueueMemory again = ops.stop(0);
        if (again != null) {
            return "stop(0) of a stopped queue returned " + again + " (expected: null)";
        }
        if (s.device.rxQueueCount() > 1) {
            try {
                ops.start(1, m);
                return "start(1) with memory of queue 0 was taken (expected: QueueOperationException)";
            } catch (QueueOperationException expected) {
                // refused, as promised
            }
        }
        ops.start(0, m);
        try {
            ops.start(0, m);
            return "start(0) of a running queue was taken (expected: QueueOperationException)";
        } catch (QueueOperationException expected) {
            return null;
        }
    }

    private static String allocFailure(Session s) throws Exception {
        String broken = s.awaitRunning();
        if (broken != null) {
            return broken;
        }
        long inits = s.memory.inits.get();
        s.memory.dry = true; // the provider has no memory left: a new pool gets nothing
        try {
            QueueMemory m = s.device.queueOps().memAlloc(0);
            s.memory.dry = false;
            s.device.queueOps().memFree(m);
            return "memAlloc(0) on a provider with no memory returned " + m + " (expected: QueueOperationException)";
        } catch (QueueOperationException expected) {
            // refused, as promised
        } finally {
            s.memory.dry = false;
        }
        if (!await(() -> s.memory.destroys.get() >= s.memory.inits.get() - s.device.rxQueueCount())) {
            return "the failed memAlloc's pool was not destroyed: " + (s.memory.inits.get() - inits) + " made";
        }
        return s.queues().stream().allMatch(q -> q.state() == QueueInfo.State.OK) ? null : "after the failed memAlloc"
                + " the queues are " + s.queues();
    }

    private static String swap(Session s) throws Exception {
        String broken = s.awaitRunning();
        if (broken != null) {
            return broken;
        }
        QueueMgmtOps ops = s.device.queueOps();
        if (!ops.canSwap(0)) {
            throw new Skip("canSwap(0) is false: the device restarts by stop and start");
        }
        QueueMemory m = ops.memAlloc(0);
        QueueMemory old = ops.swap(0, m);
        if (old == null || old == m) {
            return "swap(0) returned " + old + " (expected: the memory it ran on)";
        }
        ops.memFree(old);
        QueueMemory running = ops.stop(0);
        ops.start(0, running);
        return running == m ? null : "after swap(0) the queue ran on " + running + " (expected: " + m + ")";
    }

    private static String linkDownUp(Session s) throws Exception {
        String broken = s.awaitRunning();
        if (broken != null) {
            return broken;
        }
        try {
            s.device.setAdminUp(false);
        } catch (IllegalStateException e) {
            throw new Skip("the device cannot be set down: " + e.getMessage());
        }
        if (!await(() -> s.queues().stream().allMatch(q -> q.state() == QueueInfo.State.DOWN))) {
            return "link down: queues " + s.queues();
        }
        if (!await(() -> s.memory.pagesOut.get() == 0)) {
            return "link down: " + s.memory.pagesOut.get() + " pages still out (expected: 0, the rings freed)";
        }
        s.device.setAdminUp(true);
        return s.awaitRunning();
    }

    private static String pageHold(Session s) throws Exception {
        String broken = s.awaitRunning();
        if (broken != null) {
            return broken;
        }
        if (!(s.device instanceof QueueDebug debug)) {
            throw new Skip("the device is no QueueDebug");
        }
        if (!debug.holdPage(0)) {
            return "holdPage(0) of a running queue returned false";
        }
        if (debug.heldPages(0) != 1) {
            return "heldPages(0) = " + debug.heldPages(0) + " after one hold";
        }
        int back = debug.releaseHeldPages(0);
        return back == 1 && debug.heldPages(0) == 0 ? null : "releaseHeldPages(0) = " + back + ", then heldPages "
                + debug.heldPages(0);
    }

    private static String resetModes(Session s) throws Exception {
        String broken = s.awaitRunning();
        if (broken != null) {
            return broken;
        }
        if (!(s.device instanceof QueueDebug debug)) {
            throw new Skip("the device is no QueueDebug");
        }
        for (QueueDebug.ResetMode mode : QueueDebug.ResetMode.values()) {
            debug.resetMode(mode);
            QueueInfo q = s.engine.bindings().restartQueue(s.device.name(), 0);
            if (q.state() != QueueInfo.State.OK) {
                return "reset mode " + mode + ": restart of queue 0 left it " + q.state() + ": " + q.message();
            }
        }
        return null;
    }

    private static String accounting(Session s) throws Exception {
        String broken = s.awaitRunning();
        if (broken != null) {
            return broken;
        }
        long sent = s.subject.send(s.device, 10_000);
        if (sent < 0) {
            throw new Skip("the kit cannot send to this device");
        }
        String rx = s.subject.received();
        String drop = s.subject.dropped();
        boolean ok = await(() -> s.total(rx) + s.total(drop) + s.subject.missed(s.device) == sent);
        return ok ? null : "sent " + sent + ", " + rx + " " + s.total(rx) + ", " + drop + " " + s.total(drop)
                + ", missed " + s.subject.missed(s.device) + " (expected: sent = received + dropped + missed)";
    }

    private static String monotonic(Session s) throws Exception {
        String broken = s.awaitRunning();
        if (broken != null) {
            return broken;
        }
        return countersNeverGoDown(s.device, List.of(s.subject.received(), s.subject.dropped(), "restarts", "errors"),
                () -> s.subject.send(s.device, 1000), () -> s.engine.bindings().restartQueue(s.device.name(), 0));
    }

    /**
     * Samples queue 0's counters five times, restarting it once in between and sending between
     * samples ({@code send} answers -1 for a device with its own traffic); null when none went down.
     */
    static String countersNeverGoDown(NetDevice device, List<String> names, Callable<Long> send, Callable<?> restart)
            throws Exception {
        List<Map<String, Long>> samples = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            samples.add(device.queueStats(0));
            if (send.call() < 0) {
                Thread.sleep(20); // a device with its own traffic
            }
            if (i == 2) {
                restart.call();
            }
        }
        for (int i = 1; i < samples.size(); i++) {
            for (String n : names) {
                Long a = samples.get(i - 1).get(n);
                Long b = samples.get(i).get(n);
                if (a == null || b == null) {
                    return "queue 0 has no counter '" + n + "': " + samples.get(i).keySet();
                }
                if (b < a) {
                    return "counter '" + n + "' of queue 0 went from " + a + " to " + b;
                }
            }
        }
        return null;
    }

    private static String close(Session s) throws Exception {
        String broken = s.awaitRunning();
        if (broken != null) {
            return broken;
        }
        s.engine.removeDevice(s.device);
        s.subject.close(s.device);
        s.closed = true;
        if (!await(() -> s.memory.pagesOut.get() == 0)) {
            return "after close " + s.memory.pagesOut.get() + " pages still out";
        }
        return await(() -> s.memory.destroys.get() == s.memory.inits.get()) ? null : s.memory.inits.get()
                + " pools made, " + s.memory.destroys.get() + " destroyed";
    }
}

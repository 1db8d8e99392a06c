package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pagepool.api.testing.Await.await;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.osgi.framework.Constants;

import pagepool.api.PagePool;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.testing.TestProvider;
import pagepool.provider.heap.HeapMemoryProvider;

/**
 * The engine with a fake device: drivers and providers that throw, pools asked for queues
 * that are not the caller's, bindings that wait for their queues, edits, owners and quarantine.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EngineTest {

    private static final AtomicLong SERVICE_IDS = new AtomicLong();
    private static final long DRIVER = 7;

    private final Engine engine = new Engine(5, 60_000);
    private final HeapMemoryProvider heap = new HeapMemoryProvider(1L << 30);
    private final FakeDevice dev = new FakeDevice("fake0", 4, new PoolFactory(engine, DRIVER));

    @BeforeEach
    void setUp() {
        add(heap, true, -1, false);
        engine.addDevice(dev, DRIVER);
    }

    @AfterEach
    void tearDown() {
        engine.close();
    }

    private Map<String, Object> add(MemoryProvider p, boolean isDefault, long bundle, boolean isPrivate) {
        Map<String, Object> props = Map.of(MemoryProvider.NAME, p.name(), MemoryProvider.DEFAULT, isDefault,
                MemoryProvider.PRIVATE, isPrivate, Constants.SERVICE_ID, SERVICE_IDS.incrementAndGet(),
                Constants.SERVICE_RANKING, 0);
        engine.addProvider(p, props, bundle);
        return props;
    }

    private QueueInfo queue(int i) {
        return engine.queues().stream().filter(q -> q.queue().equals(new QueueId("fake0", i))).findFirst().orElseThrow();
    }

    private ProviderInfo provider(String name) {
        return engine.providers().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    private List<PoolInfo> poolsOf(String provider) {
        return engine.pools().stream().filter(p -> p.provider().equals(provider)).toList();
    }

    @Test
    void theEngineBringsEveryQueueUpWhenTheDeviceRegisters() {
        for (int q = 0; q < 4; q++) {
            assertEquals("heap", queue(q).provider());
            assertEquals(QueueInfo.State.OK, queue(q).state());
            assertEquals(0, queue(q).restarts(), "a first start is no restart");
            assertNotNull(dev.running(q));
        }
    }

    @Test
    void aDriverThatSwapsIsNeverStoppedAndAFailedSwapLeavesTheQueueOnItsMemory() throws InterruptedException {
        add(new TestProvider("heap2"), false, -1, false);
        dev.swaps = true;
        List<RestartRecord> restarts = new CopyOnWriteArrayList<>();
        engine.onRestart(restarts::add);
        long startsBefore = dev.starts.get(1);

        BindingInfo b = engine.bind("fake0", List.of(1), "heap2", "t", -1, "", true);

        assertEquals(BindingInfo.State.APPLIED, b.state());
        assertEquals("heap2", queue(1).provider());
        assertEquals(1, dev.swapped.get(1), "swapped");
        assertEquals(startsBefore, dev.starts.get(1), "never stopped and started");
        RestartRecord r = restarts.get(restarts.size() - 1);
        assertTrue(r.done() && r.hitless(), r.toString());
        assertEquals(0, r.stoppedNanos());
        assertEquals(1, queue(1).restarts());

        dev.failing.put("swap", () -> new IllegalStateException("ring busy"));
        engine.unbind(b.id(), null);

        QueueInfo q = queue(1);
        assertEquals("heap2", q.provider(), "still on its memory");
        assertEquals(QueueInfo.State.UNHEALTHY, q.state());
        assertEquals("swapping onto provider 'heap' failed: ring busy; it runs on 'heap2' instead", q.message());
        await("the new memory freed (in the background), the running one kept",
                () -> poolsOf("heap2").stream().filter(p -> p.state() == PoolInfo.State.ACTIVE).count() == 1);
        dev.failing.remove("swap");
        engine.restartQueue("fake0", 1);
        assertEquals("heap", queue(1).provider());
        assertEquals(QueueInfo.State.OK, queue(1).state());
    }

    @Test
    void aDriverHungInItsFreesHoldsTwoThreadsAndOneHungFreeHoldsUpNoOther() throws InterruptedException {
        add(new TestProvider("heap2"), false, -1, false);
        dev.swaps = true;
        int freesBefore = dev.frees.get();
        java.util.concurrent.CountDownLatch one = new java.util.concurrent.CountDownLatch(1);
        dev.hanging.put("memFree", one);
        for (int i = 0; i < 5; i++) {
            BindingInfo b = engine.bind("fake0", List.of(1), "heap2", "t", -1, "", true);
            engine.unbind(b.id(), null);
        }
        await("the nine frees after the hung one", () -> dev.frees.get() == freesBefore + 9);
        one.countDown();
        await("the hung one too", () -> dev.frees.get() == freesBefore + 10);

        java.util.concurrent.CountDownLatch all = new java.util.concurrent.CountDownLatch(1);
        dev.freesHang = all;
        for (int i = 0; i < 20; i++) {
            BindingInfo b = engine.bind("fake0", List.of(1 + i % 3), "heap2", "t", -1, "", true);
            assertEquals(BindingInfo.State.APPLIED, b.state(), "hung frees hold up no restart");
            engine.unbind(b.id(), null);
        }
        await("two frees under way", () -> dev.inMemFree.get() == 2);
        assertEquals(2, dev.mostInMemFree.get(), "two threads in the driver's memFree, not one per restart");
        dev.freesHang = null;
        all.countDown();
        await("all 40 freed, none lost while waiting", () -> dev.frees.get() == freesBefore + 50);
        assertEquals(2, dev.mostInMemFree.get());
        assertEquals(0, poolsOf("heap2").stream().filter(p -> p.state() == PoolInfo.State.ACTIVE).count());
    }

    @Test
    void aDriverThatDoesNotAnswerASwapHasItsQueueLeftAloneAndItsLateAnswerTaken() throws InterruptedException {
        engine.allocBudget(200);
        add(new TestProvider("heap2"), false, -1, false);
        dev.swaps = true;
        java.util.concurrent.CountDownLatch driver = new java.util.concurrent.CountDownLatch(1);
        dev.hanging.put("swap", driver);

        BindingInfo b = engine.bind("fake0", List.of(1), "heap2", "t", -1, "", true);

        assertEquals(0, dev.swapped.get(1), "answered while the driver is still in its swap");
        assertTrue(b.state() != BindingInfo.State.APPLIED, b.toString());
        assertEquals(QueueInfo.State.UNHEALTHY, queue(1).state());
        assertEquals("its driver did not answer swap within 200 ms (expected: within 200 ms); the queue is left alone"
                + " until it does", queue(1).message());
        assertEquals(QueueInfo.State.OK, engine.restartQueue("fake0", 2).state(), "the engine goes on meanwhile");
        assertEquals(0, dev.swapped.get(1));

        driver.countDown();
        await("the late swap is what happened: the queue runs on heap2", () -> "heap2".equals(queue(1).provider())
                && queue(1).state() == QueueInfo.State.OK && engine.bindings().get(0).state() == BindingInfo.State.APPLIED);
        assertEquals(1, dev.swapped.get(1));
        await("its old memory freed", () -> poolsOf("heap").stream().filter(p -> p.state() == PoolInfo.State.ACTIVE)
                .count() == 3);
    }

    @Test
    void aDriverThatDoesNotAnswerItsHealthCheckIsNotAskedAgainUntilItDoes() throws InterruptedException {
        engine.allocBudget(100);
        java.util.Set<Thread> before = engineThreads();
        java.util.concurrent.CountDownLatch driver = new java.util.concurrent.CountDownLatch(1);
        dev.hanging.put("queueFault", driver);
        await("a health check stuck in the driver, the engine on a new thread", () -> dev.hungIn != null
                && newEngineThreads(before) == 1);

        assertEquals(QueueInfo.State.OK, engine.restartQueue("fake0", 2).state(), "the engine goes on");
        Thread.sleep(500); // five health intervals: were the driver asked again, each would strand a thread
        assertEquals(1, newEngineThreads(before), "one engine thread, however many checks came due");
        assertTrue(dev.hungIn.isAlive());

        dev.faults[3] = "ring stalled";
        driver.countDown();
        await("the stuck thread ends, health checks resume and act on what the driver reports",
                () -> !dev.hungIn.isAlive() && dev.starts.get(3) >= 2);
        assertEquals(1, newEngineThreads(before));
    }

    @Test
    void aDeviceSlowToSayItsNameHoldsNeitherItsServiceEventNorTheEngineAndIsTakenWhenItDoes() throws Exception {
        engine.allocBudget(100);
        java.util.concurrent.CountDownLatch driver = new java.util.concurrent.CountDownLatch(1);
        FakeDevice slow = slowToSayItsName("fake1", driver);

        Thread event = new Thread(() -> engine.addDevice(slow, DRIVER + 1));
        event.start();
        event.join(10_000);

        assertTrue(!event.isAlive(), "the service event is answered while the driver has not said its name");
        assertEquals(QueueInfo.State.OK, engine.restartQueue("fake0", 2).state(), "the engine goes on");
        assertTrue(engine.devices().stream().noneMatch(d -> d.name().equals("fake1")));

        driver.countDown();
        await("taken once its driver answers, its queues started", () -> engine.queues().stream()
                .filter(q -> q.queue().device().equals("fake1") && q.state() == QueueInfo.State.OK).count() == 2);
    }

    @Test
    void aDeviceThatGoesBeforeItSaysItsNameIsNotTakenByItsLateAnswer() throws Exception {
        engine.allocBudget(100);
        java.util.concurrent.CountDownLatch driver = new java.util.concurrent.CountDownLatch(1);
        FakeDevice slow = slowToSayItsName("fake1", driver);
        engine.addDevice(slow, DRIVER + 1); // answered once the budget runs out
        engine.removeDevice(slow);

        driver.countDown();
        await("the late answer came back", () -> slow.hungIn != null && !slow.hungIn.isAlive());
        assertTrue(engine.devices().stream().noneMatch(d -> d.name().equals("fake1")), engine.devices().toString());
        assertTrue(engine.queues().stream().noneMatch(q -> q.queue().device().equals("fake1")));
    }

    @Test
    void workThatOutlivesItsDeviceCallsItsDriverNoMore() throws Exception {
        engine.allocBudget(100);
        add(new TestProvider("heap2"), false, -1, false);
        java.util.concurrent.CountDownLatch driver = new java.util.concurrent.CountDownLatch(1);
        dev.hanging.put("memAlloc", driver);
        Thread bind = new Thread(() -> engine.bind("fake0", List.of(0, 1, 2, 3), "heap2", "t", -1, "", true));
        bind.start();
        await("queue 0's allocation stuck in the driver", () -> dev.hungIn != null);
        bind.join(10_000); // answered once the budget ran out
        engine.removeDevice(dev);
        long before = dev.memAllocs.get(1) + dev.memAllocs.get(2) + dev.memAllocs.get(3);

        driver.countDown(); // the stuck thread goes on with the loop over fake0's queues it was in
        await("the stuck thread ends", () -> !dev.hungIn.isAlive());
        assertEquals(before, dev.memAllocs.get(1) + dev.memAllocs.get(2) + dev.memAllocs.get(3),
                "no allocation asked of a device that is gone");
    }

    /** A device of another bundle whose driver does not say its name until {@code driver} opens. */
    private FakeDevice slowToSayItsName(String name, java.util.concurrent.CountDownLatch driver) {
        FakeDevice slow = new FakeDevice(name, 2, new PoolFactory(engine, DRIVER + 1));
        slow.hanging.put("name", driver);
        return slow;
    }

    private static java.util.Set<Thread> engineThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("pagepool-reconciler"))
                .collect(java.util.stream.Collectors.toSet());
    }

    private static long newEngineThreads(java.util.Set<Thread> before) {
        return engineThreads().stream().filter(t -> !before.contains(t) && t.isAlive()).count();
    }

    @Test
    void thePoolsABundleLeftOpenAreClosedWhenItStopsAndDrainAsADetach() {
        PoolFactory careless = new PoolFactory(engine, 8);
        PagePool closed = careless.create(PoolParams.builder().build());
        closed.close();
        PagePool idle = careless.create(PoolParams.builder().build());
        idle.release(idle.alloc());
        PagePool holding = careless.create(PoolParams.builder().build());
        pagepool.api.Netmem held = holding.alloc();

        careless.deactivate(); // the framework releases the bundle's factory when the bundle stops

        assertEquals(PoolInfo.State.DESTROYED, idle.info().state(), "nothing out: destroyed at once");
        assertEquals(PoolInfo.State.DETACHED, holding.info().state(), "a page out: detached, draining");
        holding.release(held);
        assertEquals(PoolInfo.State.DESTROYED, holding.info().state());
        assertEquals(PoolInfo.State.DESTROYED, closed.info().state());
        assertEquals(List.of(), engine.pools().stream().filter(p -> p.state() != PoolInfo.State.DESTROYED).filter(
                p -> p.queue() == null).toList(), "no pool of the stopped bundle is left");
    }

    @Test
    void aFactoryForgetsTheClosedPoolsOfABundleThatMakesManyAndStillClosesTheOpenOnesWhenItStops() {
        PoolFactory busy = new PoolFactory(engine, 9);
        PoolParams small = PoolParams.builder().poolSize(64).build();
        List<PagePool> open = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            open.add(busy.create(small));
        }
        for (int i = 0; i < 5_000; i++) {
            busy.create(small).close();
            assertTrue(busy.tracked() <= 2 * open.size() + 64, "tracked " + busy.tracked() + " after " + i);
        }

        busy.deactivate();
        assertTrue(open.stream().allMatch(p -> p.info().state() == PoolInfo.State.DESTROYED), "all closed");
    }

    @Test
    void aDeviceConfigurationIsSizedAgainstTheMemoryBudgetBeforeAnythingIsBuilt() {
        engine.memory.budget(100L << 20);
        PoolFactory driver = new PoolFactory(engine, 8);
        driver.reserve("pagepool.sim.device~sim0", 16L << 20);
        driver.reserve("pagepool.sim.device~sim0", 64L << 20); // rebuilt larger: replaces its own
        PoolFactory other = new PoolFactory(engine, 9);
        assertEquals("memory: 2147483648 bytes for the rings of pagepool.sim.device~sim1 (expected: at most 37748736,"
                + " what is left of memory.budget.bytes=104857600 with 67108864 reserved by other devices; fewer queues"
                + " or smaller rings, or a larger memory.budget.bytes in pagepool.engine.cfg)",
                assertThrows(IllegalArgumentException.class,
                        () -> other.reserve("pagepool.sim.device~sim1", 32L * 16384 * 4096)).getMessage());
        other.reserve("pagepool.sim.device~sim1", 36L << 20);
        assertEquals(100L << 20, engine.memory.reserved());
        driver.deactivate(); // the driver's bundle stopped
        assertEquals(36L << 20, engine.memory.reserved());
        assertEquals("bytes: -1 (expected: 0 or more)", assertThrows(IllegalArgumentException.class,
                () -> other.reserve("x", -1)).getMessage());
    }

    @Test
    void poolsAreMadeOnlyForRegisteredQueuesAndOnlyForTheirDriver() {
        List<QueueInfo> before = engine.queues();
        PoolFactory other = new PoolFactory(engine, 8);
        PoolParams.Builder b = PoolParams.builder();
        assertEquals("queue eth9/0: device 'eth9' is not registered (expected: a queue of a registered device, one of"
                + " [fake0])", assertThrows(IllegalArgumentException.class,
                        () -> other.create(b.queue("eth9", 0).build())).getMessage());
        assertEquals("queue: 99 (expected: 0..3 on fake0)", assertThrows(IllegalArgumentException.class,
                () -> other.create(b.queue("fake0", 99).build())).getMessage());
        assertEquals("queue fake0/1 belongs to the driver that registered fake0 (bundle 7), not to bundle 8 (expected:"
                + " pools for a queue are created by its driver)", assertThrows(IllegalArgumentException.class,
                        () -> other.create(b.queue("fake0", 1).build())).getMessage());
        assertEquals(before, engine.queues(), "no phantom queue, nothing changed");

        PagePool mine = other.create(PoolParams.builder().build());
        assertEquals("heap", mine.info().provider(), "a pool without a queue is anyone's, on the default provider");
        mine.close();
    }

    @Test
    void aDriverThatThrowsFromAnyQueueOperationNeverStopsTheReconciler() {
        add(heap2(), false, -1, false);
        dev.failing.put("memAlloc", () -> new AssertionError("driver bug"));
        BindingInfo b = engine.bind("fake0", List.of(1), "heap2", "t", -1, "", true);
        assertEquals(BindingInfo.State.FAILED, b.state());
        assertEquals("allocating memory on provider 'heap2' failed: driver bug; it runs on 'heap' instead",
                queue(1).message());
        assertEquals(QueueInfo.State.UNHEALTHY, queue(1).state());
        assertEquals("heap", queue(1).provider());
        engine.unbind(b.id(), null);

        dev.failing.clear();
        dev.failing.put("start", () -> new IllegalStateException("no start"));
        b = engine.bind("fake0", List.of(1), "heap2", "t", -1, "", true);
        assertEquals(QueueInfo.State.DOWN, queue(1).state(), "the rollback's start threw too");
        assertTrue(queue(1).message().endsWith("restarting on its previous memory failed too: no start"),
                queue(1).message());
        engine.unbind(b.id(), null);

        dev.failing.clear();
        dev.failing.put("memFree", () -> new NullPointerException());
        b = engine.bind("fake0", List.of(1), "heap2", "t", -1, "", true);
        assertEquals(BindingInfo.State.APPLIED, b.state(), "a memFree that throws does not undo a restart");
        dev.failing.clear();
        engine.unbind(b.id(), null);
        assertEquals(QueueInfo.State.OK, queue(1).state());
        assertEquals("heap", queue(1).provider());
    }

    @Test
    void aQueueItsDriverReportsFailedIsRestartedAndRecovers() throws InterruptedException {
        long starts = dev.starts.get(2);
        dev.faults[2] = "NAPI: IllegalStateException: ring corrupt";
        await("the queue restarted", () -> dev.starts.get(2) > starts);
        await("and recovered", () -> queue(2).state() == QueueInfo.State.OK);
        assertEquals("restarted after its driver reported: NAPI: IllegalStateException: ring corrupt",
                queue(2).message());
        assertEquals(1, queue(2).restarts());
    }

    @Test
    void aSecondConfigurationForAQueueWaitsAndAppliesWhenTheFirstGoes() {
        add(heap2(), false, -1, false);
        engine.configure("config:a", "file a.cfg", "fake0", "1", "heap2");
        BindingInfo second = engine.configure("config:b", "file b.cfg", "fake0", "1,2", "heap2");
        assertEquals(BindingInfo.State.FAILED, second.state());
        assertEquals("queue fake0/1 is held by binding 1 (config:a, file a.cfg); this one applies when it goes",
                second.message());
        assertEquals("heap", queue(2).provider(), "a waiting binding binds none of its queues");

        engine.unbindOwner("config:a");

        BindingInfo now = engine.bindings().get(0);
        assertEquals(second.id(), now.id());
        assertEquals(BindingInfo.State.APPLIED, now.state());
        assertEquals("heap2", queue(1).provider());
        assertEquals("heap2", queue(2).provider());
    }

    @Test
    void editingAConfigurationRestartsOnlyTheQueuesWhoseProviderChanges() {
        add(heap2(), false, -1, false);
        BindingInfo b = engine.configure("config:a", "file a.cfg", "fake0", "0,1", "heap2");
        long[] allocs = new long[4];
        for (int q = 0; q < 4; q++) {
            allocs[q] = dev.memAllocs.get(q);
        }

        BindingInfo edited = engine.configure("config:a", "file a.cfg", "fake0", "1,2", "heap2");

        assertEquals(b.id(), edited.id(), "the same binding, edited");
        assertEquals(allocs[1], dev.memAllocs.get(1), "queue 1 stays bound: not restarted");
        assertEquals(allocs[0] + 1, dev.memAllocs.get(0), "queue 0 back to the default");
        assertEquals(allocs[2] + 1, dev.memAllocs.get(2), "queue 2 onto heap2");
        assertEquals(allocs[3], dev.memAllocs.get(3));
        assertEquals("heap", queue(0).provider());
        assertEquals("heap2", queue(2).provider());

        BindingInfo broken = engine.configure("config:a", "file a.cfg", "fake0", "1-", "heap2");
        assertEquals(BindingInfo.State.FAILED, broken.state());
        assertEquals("heap", queue(1).provider(), "a malformed edit binds nothing");
    }

    @Test
    void onlyTheOwnerChangesABinding() {
        add(heap2(), false, -1, false);
        BindingInfo cfg = engine.configure("config:a", "file a.cfg", "fake0", "1", "heap2");
        BindingInfo mine = engine.bind("fake0", List.of(2), "heap2", "bundle:shell#3", 3, "pp:bind", true);
        assertEquals("queue fake0/1 is bound by config:a, file a.cfg (expected: only its owner changes it; delete its"
                + " file to unbind)", assertThrows(IllegalArgumentException.class,
                        () -> engine.unbind("fake0", List.of(1), "bundle:shell#3")).getMessage());
        assertEquals("binding " + mine.id() + " is bound by bundle:shell#3, pp:bind (expected: only its owner changes it)",
                assertThrows(IllegalArgumentException.class, () -> engine.unbind(mine.id(), "bundle:other#4")).getMessage());
        assertEquals(2, engine.bindings().size(), "nothing removed");
        assertTrue(engine.unbind(mine.id(), "bundle:shell#3"));
        assertEquals(cfg.id(), engine.bindings().get(0).id());
    }

    @Test
    void aPrivateProviderIsBoundOnlyThroughTheBundleThatRegisteredIt() {
        add(heap2(), false, 42, true);
        assertEquals("provider 'heap2' is private to the bundle that registered it (bundle 42) (expected: a provider any"
                + " bundle may bind; bind this one through its owner, e.g. pp:dmabuf_bind)",
                assertThrows(IllegalArgumentException.class,
                        () -> engine.bind("fake0", List.of(0), "heap2", "bundle:shell#3", 3, "", true)).getMessage());
        BindingInfo cfg = engine.configure("config:a", "file a.cfg", "fake0", "0", "heap2");
        assertEquals(BindingInfo.State.FAILED, engine.bindings().stream().filter(b -> b.id() == cfg.id()).findFirst()
                .orElseThrow().state(), "not even through a file");
        assertEquals("heap", queue(0).provider());
        engine.unbindOwner("config:a");
        BindingInfo owned = engine.bind("fake0", List.of(0), "heap2", "bundle:owner#42", 42, "", true);
        assertEquals(BindingInfo.State.APPLIED, owned.state());
    }

    /** The refusals the engine reports (what pp:problems lists), by subject. */
    private Map<String, String> refusals() {
        Map<String, String> seen = new java.util.concurrent.ConcurrentHashMap<>();
        engine.refusals = (subject, message) -> {
            if (message == null) {
                seen.remove(subject);
            } else {
                seen.put(subject, message);
            }
        };
        return seen;
    }

    @Test
    void aProviderNameBelongsToTheFirstBundleAnotherBundlesProviderOfThatNameIsRefusedHoweverRanked() {
        Map<String, String> refused = refusals();
        TestProvider fast = new TestProvider("fast");
        add(fast, false, 20, false);
        engine.bind("fake0", List.of(1), "fast", "bundle:shell#3", 3, "", true);
        assertEquals(fast.name(), queue(1).provider());
        int pool = queue(1).poolId();

        TestProvider impostor = new TestProvider("fast");
        Map<String, Object> props = new java.util.HashMap<>(Map.of(MemoryProvider.NAME, "fast",
                Constants.SERVICE_ID, SERVICE_IDS.incrementAndGet(), Constants.SERVICE_RANKING, 100));
        engine.addProvider(impostor, props, 21);

        assertEquals(pool, queue(1).poolId(), "the running queue stays on the first bundle's provider");
        assertEquals(0, impostor.initsCompleted.get(), "the impostor got no pool");
        assertEquals(1, engine.providers().stream().filter(p -> p.name().equals("fast")).count());
        assertEquals("memory provider 'fast' of bundle 21 is not taken: the name belongs to a provider of bundle 20"
                + " (service " + (SERVICE_IDS.get() - 1) + ") (expected: a name no other bundle's provider has)",
                refused.get("provider service " + SERVICE_IDS.get() + " of bundle 21"));
    }

    @Test
    void aBindingMadeWithAProviderObjectRunsOnThatServiceWhateverElseIsCalledTheSame() {
        TestProvider mine = new TestProvider("devmem-1");
        add(mine, false, 30, true);
        BindingInfo b = engine.bind("fake0", List.of(2), mine, "bundle:devmem#30", 30, "dma-buf binding 1");
        assertEquals(BindingInfo.State.APPLIED, b.state());
        assertEquals("devmem-1", b.provider());
        int pool = queue(2).poolId();

        TestProvider loud = new TestProvider("devmem-1");
        engine.addProvider(loud, Map.of(MemoryProvider.NAME, "devmem-1", Constants.SERVICE_ID,
                SERVICE_IDS.incrementAndGet(), Constants.SERVICE_RANKING, 1000), 31);
        TestProvider quiet = new TestProvider("devmem-1");
        add(quiet, false, 32, true);

        assertEquals(pool, queue(2).poolId(), "neither a higher-ranked public nor another private one takes the queue");
        assertEquals(BindingInfo.State.APPLIED, engine.bindings().get(0).state());
        assertEquals(0, loud.initsCompleted.get() + quiet.initsCompleted.get());
        assertEquals("provider: a pagepool.api.testing.TestProvider that is not a service of bundle 30 (expected: a MemoryProvider the caller"
                + " registered as a service, and the engine took)", assertThrows(IllegalArgumentException.class,
                        () -> engine.bind("fake0", List.of(3), loud, "bundle:devmem#30", 30, "")).getMessage());
        assertEquals("provider: null (expected: a MemoryProvider the caller registered as a service)",
                assertThrows(IllegalArgumentException.class,
                        () -> engine.bind("fake0", List.of(3), (MemoryProvider) null, "bundle:devmem#30", 30, ""))
                        .getMessage());
    }

    @Test
    void aDeviceNameBelongsToTheBundleOfItsDeviceAnotherBundlesDeviceIsRefusedAndNeverPromoted() {
        Map<String, String> refused = refusals();
        FakeDevice impostor = new FakeDevice("fake0", 4, new PoolFactory(engine, 66));
        engine.addDevice(impostor, 66);
        assertEquals("network device 'fake0' of bundle 66 is not taken: the name belongs to a device of bundle 7"
                + " (expected: a name no other bundle's device has)", refused.get("device fake0 of bundle 66"));

        FakeDevice replacement = new FakeDevice("fake0", 4, new PoolFactory(engine, DRIVER));
        engine.addDevice(replacement, DRIVER); // its own driver rebuilds it: bind before unbind
        engine.removeDevice(dev);
        assertEquals(List.of("fake0"), engine.devices().stream().map(pagepool.api.binding.DeviceInfo::name).toList());
        assertEquals(0, impostor.memAllocs.get(0), "the impostor never got a queue");
        assertTrue(replacement.memAllocs.get(0) > 0, "the driver's own replacement took over");

        engine.removeDevice(replacement);
        assertEquals(List.of(), engine.devices(), "the refused device is not promoted when the name frees");
        engine.removeDevice(impostor);
        assertTrue(refused.isEmpty(), "its refusal goes with it: " + refused);
    }

    /** A provider whose pool set-up takes {@code initMillis} and each page given back {@code releaseMillis}. */
    private static TestProvider slow(String name, long initMillis, long releaseMillis) {
        return new TestProvider(name) {
            @Override
            public void init(pagepool.api.provider.PoolContext pool) throws pagepool.api.provider.ProviderRefusedException {
                pause(initMillis);
                super.init(pool);
            }

            @Override
            public boolean releaseNetmem(pagepool.api.provider.PoolContext pool, pagepool.api.Netmem netmem) {
                pause(releaseMillis);
                return super.releaseNetmem(pool, netmem);
            }
        };
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aProviderSlowerThanTheAllocationBudgetIsChargedTheEngineGoesOnAndWhatItSetsUpLateIsFreed()
            throws InterruptedException {
        engine.allocBudget(200);
        TestProvider sleepy = slow("sleepy", 3_000, 0);
        add(sleepy, false, -1, false);

        BindingInfo b = engine.bind("fake0", List.of(1), "sleepy", "t", -1, "", true);

        assertEquals(0, sleepy.initsCompleted.get(), "answered while the provider is still in its init");
        assertEquals(BindingInfo.State.FAILED, b.state(), "the restart gave up: nothing half-done is reported as done");
        assertEquals("heap", queue(1).provider(), "the queue stays on its memory");
        assertTrue(queue(1).message().contains("provider 'sleepy' was still setting up or allocating after 200 ms"
                + " (expected: within 200 ms); charged as its fault"), queue(1).message());
        assertTrue(queue(1).message().endsWith("; the queue is left alone until its driver answers; it runs on 'heap'"
                + " instead"), queue(1).message());
        assertTrue(provider("sleepy").faults().init() >= 1, "charged: " + provider("sleepy").faults());
        assertEquals(QueueInfo.State.OK, engine.restartQueue("fake0", 2).state(), "another queue restarts meanwhile");
        assertTrue(engine.unbind(b.id(), null), "an unbind of the waiting queue is taken");
        assertEquals(0, sleepy.initsCompleted.get(), "all of it while the provider was still in its init");

        await("the late pool is freed, not orphaned, and the queue reconciled with the unbind",
                () -> sleepy.initsCompleted.get() == 1 && sleepy.destroys.get() == 1 && poolsOf("sleepy").isEmpty()
                        && queue(1).state() == QueueInfo.State.OK);
        assertEquals("heap", queue(1).provider());
        assertEquals(0, sleepy.pagesOut.get());
    }

    @Test
    void aProviderSlowToTakePagesBackNeitherHoldsTheEngineNorEscapesCharges() throws InterruptedException {
        TestProvider sluggish = slow("sluggish", 0, 700);
        sluggish.handOutLimit(FakeDevice.RING); // the ring's 8 pages and no more
        add(sluggish, false, -1, false);
        BindingInfo b = engine.bind("fake0", List.of(2), "sluggish", "t", -1, "", true);
        assertEquals(BindingInfo.State.APPLIED, b.state());

        engine.unbind(b.id(), null); // frees 8 pages at 700 ms each: 5.6 s, and the engine waits 1 s at most

        assertTrue(sluggish.pagesOut.get() > 0, "the unbind answered while the free goes on");
        assertEquals("heap", queue(2).provider());
        assertEquals(QueueInfo.State.OK, engine.restartQueue("fake0", 3).state(), "the engine takes more work meanwhile");
        await("every page back", () -> sluggish.pagesOut.get() == 0 && poolsOf("sluggish").isEmpty());
        assertTrue(provider("sluggish").faults().release() >= 3, "each slow release is a fault: "
                + provider("sluggish").faults());
        assertTrue(provider("sluggish").faults().last().matches("releaseNetmem took \\d+ ms \\(expected: within 500"
                + " ms\\)"), provider("sluggish").faults().last());
        await("quarantined", () -> provider("sluggish").state() == ProviderInfo.State.QUARANTINED);
    }

    @Test
    void aProviderThatDoesNotAnswerDescribeHoldsAReaderOnceForItsBudgetIsChargedAndIsAskedAgainWhenItAnswers()
            throws InterruptedException {
        java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        TestProvider mute = new TestProvider("mute") {
            @Override
            public Map<String, Object> describe(pagepool.api.provider.PoolContext pool) {
                asked.incrementAndGet();
                while (true) {
                    try {
                        answer.await();
                        return Map.of("pages", 8);
                    } catch (InterruptedException e) {
                        // as a provider that ignores it
                    }
                }
            }
        };
        add(mute, false, -1, false);
        assertEquals(BindingInfo.State.APPLIED, engine.bind("fake0", List.of(1, 2), "mute", "t", -1, "", true).state());

        long t0 = System.nanoTime();
        List<String> errors = poolsOf("mute").stream().map(p -> String.valueOf(p.providerInfo().get("error")))
                .sorted().toList();
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(2, errors.size(), String.valueOf(errors));
        assertTrue(errors.get(0).matches("describe of pool \\d+ by provider 'mute' did not answer within 500 ms"),
                errors.get(0));
        assertTrue(errors.get(1).matches("describe of pool \\d+ by provider 'mute' has not answered for \\d+ ms"
                + " \\(expected: within 500 ms\\); not asked again until it does"), errors.get(1));
        assertEquals(1, asked.get(), "a provider that owes an answer is not asked again");
        assertTrue(waited >= 500, "the reader waited out the budget, once: " + waited + " ms");
        assertTrue(provider("mute").faults().other() >= 1, "charged: " + provider("mute").faults());

        answer.countDown();
        await("asked afresh once it answered", () -> poolsOf("mute").stream()
                .anyMatch(p -> p.providerInfo().equals(Map.of("pages", 8L))));
        assertTrue(asked.get() >= 2);
    }

    @Test
    void aProviderWhoseInitThrowsAnErrorLeavesTheQueueOnItsMemory() {
        TestProvider bad = new TestProvider("bad");
        bad.failing(TestProvider.Call.INIT, () -> new StackOverflowError());
        add(bad, false, -1, false);

        BindingInfo b = engine.bind("fake0", List.of(3), "bad", "t", -1, "", true);

        assertEquals(BindingInfo.State.FAILED, b.state());
        assertEquals(QueueInfo.State.UNHEALTHY, queue(3).state());
        assertEquals("heap", queue(3).provider());
        assertTrue(queue(3).message().contains("init threw StackOverflowError"), queue(3).message());
        assertEquals(1, provider("bad").faults().init());
        assertTrue(poolsOf("bad").isEmpty());
    }

    @Test
    void anAllocationThatThrowsDuringARestartLeavesNoPoolBehind() {
        TestProvider bad = new TestProvider("bad");
        bad.failing(TestProvider.Call.ALLOC, () -> new IllegalStateException("no slab"));
        add(bad, false, -1, false);

        BindingInfo b = engine.bind("fake0", List.of(0), "bad", "t", -1, "", true);

        assertEquals(BindingInfo.State.FAILED, b.state());
        assertEquals("allocating memory on provider 'bad' failed: fake0/0: the pool gave 0 of 8 buffers (provider"
                + " fault: allocNetmems threw IllegalStateException: no slab); it runs on 'heap' instead",
                queue(0).message());
        assertTrue(poolsOf("bad").isEmpty(), "the pool its init made was destroyed");
        assertEquals(bad.initsCompleted.get(), bad.destroys.get(), "init and destroy paired");
    }

    @Test
    void aProviderThatKeepsFaultingIsQuarantinedUntilAnOperatorResetsIt() throws InterruptedException {
        TestProvider bad = new TestProvider("bad");
        bad.failing(TestProvider.Call.DESTROY, () -> new IllegalStateException("cannot free"));
        add(bad, false, -1, false);
        for (int i = 0; i < 3; i++) {
            BindingInfo b = engine.bind("fake0", List.of(1), "bad", "t", -1, "", true);
            assertEquals(BindingInfo.State.APPLIED, b.state(), "swap " + i);
            engine.unbind(b.id(), null);
            assertEquals(QueueInfo.State.OK, queue(1).state(), "a destroy that throws leaves the queue as it should be");
            assertEquals(i + 1, dev.starts.get(1) / 2, "the queue really restarted each time");
        }
        await("three destroys failed (old memory is freed in the background)", () -> provider("bad").faults().destroy() == 3);
        await("quarantined", () -> provider("bad").state() == ProviderInfo.State.QUARANTINED);
        await("every pool destroyed all the same", () -> bad.initsCompleted.get() == bad.destroys.get());

        BindingInfo refused = engine.bind("fake0", List.of(1), "bad", "t", -1, "", true);
        assertEquals(BindingInfo.State.FAILED, refused.state());
        assertTrue(refused.message().startsWith("provider 'bad' is quarantined after 3 faults (last: destroy threw"
                + " IllegalStateException: cannot free)"), refused.message());
        assertEquals("heap", queue(1).provider());

        bad.healed(TestProvider.Call.DESTROY);
        ProviderInfo reset = engine.resetProvider("bad");
        assertEquals(ProviderInfo.State.ACTIVE, reset.state());
        assertEquals(0, reset.faults().total());
        assertEquals("bad", queue(1).provider(), "the waiting binding applies");
        assertEquals(BindingInfo.State.APPLIED, engine.bindings().get(0).state());
        assertEquals("provider: 'nope' is unknown (expected: one of [bad, heap])",
                assertThrows(IllegalArgumentException.class, () -> engine.resetProvider("nope")).getMessage());
    }

    /** A second provider that behaves. */
    private static MemoryProvider heap2() {
        return new TestProvider("heap2");
    }
}

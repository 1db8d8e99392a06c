package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pagepool.api.testing.Await.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import pagepool.api.BadReleaseException;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.api.binding.BindingInfo;
import pagepool.api.testing.TestProvider;
import pagepool.provider.heap.HeapMemoryProvider;

/** The engine's JFR events, as an operator's recording sees them. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FlightRecorderEventsTest {

    private final StandaloneEngine engine = new StandaloneEngine(10, 50);
    private final RecordingStream recording = new RecordingStream();
    private final List<RecordedEvent> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void record() {
        for (String e : List.of("QueueRestart", "PoolDetach", "PoolDestroy", "PoolStall", "BadRelease",
                "ProviderExhausted")) {
            recording.enable("pagepool." + e);
        }
        recording.enable("pagepool.PoolStatistics").withPeriod(Duration.ofMillis(50));
        recording.onEvent(events::add);
        recording.startAsync();
        engine.addProvider(new HeapMemoryProvider(1L << 30), true);
    }

    @AfterEach
    void stop() {
        recording.close();
        engine.close();
    }

    private RecordedEvent await1(String name, java.util.function.Predicate<RecordedEvent> which) throws Exception {
        await(name, () -> events.stream().anyMatch(e -> e.getEventType().getName().equals(name) && which.test(e)));
        return events.stream().filter(e -> e.getEventType().getName().equals(name) && which.test(e)).findFirst()
                .orElseThrow();
    }

    private long count(String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).count();
    }

    @Test
    void aBindingRecordsTheRestartWithItsPhases() throws Exception {
        FakeDevice dev = new FakeDevice("fake0", 2, engine.factory());
        engine.addDevice(dev);
        engine.addProvider(new TestProvider("other"), false);
        BindingInfo b = engine.bindings().bind("fake0", List.of(1), "other");
        assertEquals(BindingInfo.State.APPLIED, b.state(), b.message());

        RecordedEvent e = await1("pagepool.QueueRestart", x -> "other".equals(x.getString("toProvider")));
        assertEquals("fake0", e.getString("device"));
        assertEquals(1, e.getInt("queue"));
        assertEquals("heap", e.getString("fromProvider"));
        assertTrue(e.getBoolean("done"));
        assertTrue(e.getLong("allocNanos") > 0 && e.getLong("freeNanos") > 0, e.toString());
        assertEquals(-1, e.getLong("dropped"), "the fake device counts no drops");
        assertTrue(e.getDuration().toNanos() >= e.getLong("allocNanos"), "the event spans the restart");
        // The queue's first start on heap is a restart from nothing.
        await1("pagepool.QueueRestart", x -> x.getInt("queue") == 0 && x.getString("fromProvider").isEmpty());
    }

    @Test
    void aDriverThatDoesNotAnswerForItsCountersHoldsOneRestartForItsReadBudgetAndIsNotAskedAgainUntilItDoes()
            throws Exception {
        FakeDevice dev = new FakeDevice("fake0", 2, engine.factory());
        java.util.concurrent.CountDownLatch driver = new java.util.concurrent.CountDownLatch(1);
        dev.hanging.put("queueStats", driver);
        engine.addDevice(dev);
        engine.addProvider(new TestProvider("other"), false);

        BindingInfo b = engine.bindings().bind("fake0", List.of(0, 1), "other");
        assertEquals(BindingInfo.State.APPLIED, b.state(), b.message());
        RecordedEvent e = await1("pagepool.QueueRestart", x -> "other".equals(x.getString("toProvider")));
        assertEquals(-1, e.getLong("dropped"), "no drops from a driver that did not answer");
        assertEquals(1, dev.statsReads.get(), "asked once: it owes that answer");
        assertTrue(dev.hungIn.isAlive());

        assertTrue(engine.bindings().unbind(b.id()));
        assertEquals(1, dev.statsReads.get(), "restarts while it owes do not ask");
        driver.countDown();
        await("asked again once it answered", () -> {
            engine.bindings().unbind(engine.bindings().bind("fake0", List.of(0), "other").id());
            return dev.statsReads.get() > 1;
        });
    }

    @Test
    void aPoolClosedWithAPageOutDetachesStallsAndIsDestroyedWhenThePageComesBack() throws Exception {
        TestProvider p = new TestProvider("t");
        PagePool pool = engine.createPool(PoolParams.builder().queue("q0", 3).build(), p);
        Netmem page = pool.alloc();
        pool.close();
        RecordedEvent detach = await1("pagepool.PoolDetach", x -> x.getInt("pool") == pool.id());
        assertEquals("q0/3", detach.getString("queue"));
        assertEquals("t", detach.getString("provider"));
        assertEquals(1, detach.getLong("inflight"));
        assertEquals(4096, detach.getLong("inflightBytes"));
        RecordedEvent stall = await1("pagepool.PoolStall", x -> x.getInt("pool") == pool.id());
        assertTrue(stall.getLong("waitedMillis") >= 50, stall.toString());

        pool.release(page);
        RecordedEvent destroy = await1("pagepool.PoolDestroy", x -> x.getInt("pool") == pool.id());
        assertTrue(destroy.getDuration("detachedNanos").toMillis() >= 50, destroy.toString());
        assertEquals(1, count("pagepool.PoolDestroy"), "once");
    }

    @Test
    void aRefusedReleaseIsRecordedWithItsMessage() throws Exception {
        PagePool pool = engine.createPool(PoolParams.builder().build(), new TestProvider("t"));
        Netmem page = pool.alloc();
        pool.release(page);
        BadReleaseException refused = assertThrows(BadReleaseException.class, () -> pool.release(page));
        RecordedEvent e = await1("pagepool.BadRelease", x -> x.getInt("pool") == pool.id());
        assertEquals(refused.getMessage(), e.getString("message"));
        assertEquals("t", e.getString("provider"), "the provider whose page it was");
        assertNotNull(e.getStackTrace(), "a bad release says where it came from");
        pool.close();
    }

    @Test
    void aProviderRunningDryIsRecordedOncePerDrySpell() throws Exception {
        TestProvider tiny = new TestProvider("tiny").handOutLimit(1);
        PagePool pool = engine.createPool(PoolParams.builder().build(), tiny);
        Netmem first = pool.alloc();
        assertNull(pool.alloc());
        assertNull(pool.alloc());
        RecordedEvent e = await1("pagepool.ProviderExhausted", x -> x.getInt("pool") == pool.id());
        assertEquals("tiny", e.getString("provider"));
        assertEquals(1, e.getLong("hold"));
        pool.release(first);
        pool.close();
        await("the pool destroyed", () -> count("pagepool.PoolDestroy") == 1);
        assertEquals(1, count("pagepool.ProviderExhausted"), "one dry spell, one event");
    }

    @Test
    void everyPoolsCountersAreRecordedPeriodically() throws Exception {
        PagePool pool = engine.createPool(PoolParams.builder().queue("q1", 0).build(), new TestProvider("t"));
        Netmem page = pool.alloc();
        RecordedEvent e = await1("pagepool.PoolStatistics", x -> x.getInt("pool") == pool.id()
                && x.getLong("allocSlow") == 1);
        assertEquals("q1/0", e.getString("queue"));
        assertEquals("ACTIVE", e.getString("state"));
        assertTrue(e.getLong("inflight") >= 1);
        pool.release(page);
        pool.close();
    }
}

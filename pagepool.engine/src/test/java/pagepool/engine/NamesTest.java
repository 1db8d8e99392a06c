package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pagepool.api.testing.Await.await;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import pagepool.api.provider.MemoryProvider;
import pagepool.api.testing.TestProvider;
import pagepool.provider.heap.HeapMemoryProvider;

/**
 * A name is checked where a device or a provider comes in: one the engine does not take is
 * refused in one line, to be listed while the service stays, and the refusal goes with it.
 */
class NamesTest {

    private final StandaloneEngine engine = new StandaloneEngine(10, 60_000);
    private final List<String> said = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        engine.close();
    }

    @Test
    void aDeviceOrProviderWithABadNameIsNotTakenAndTheRefusalGoesWithIt() throws InterruptedException {
        engine.engine().refusals = (subject, message) -> said.add(subject + " | " + message);
        engine.addProvider(new HeapMemoryProvider(1L << 30), true);
        FakeDevice bad = new FakeDevice("../../sim0", 2, engine.factory());
        engine.addDevice(bad);
        await("the device refused", () -> !said.isEmpty());
        assertEquals("device '../../sim0' of bundle -1 | network device '../../sim0' is not taken: name: '../../sim0'"
                + " (expected: a device name of 1..15 characters of A-Z a-z 0-9 . _ -, as Linux names an interface)",
                said.get(0));
        assertTrue(engine.bindings().devices().isEmpty(), "not taken");
        engine.removeDevice(bad);
        await("the refusal gone with it", () -> said.size() == 2);
        assertEquals("device '../../sim0' of bundle -1 | null", said.get(1));

        engine.addProvider(new TestProvider("red\u001b[31m"), Map.of(MemoryProvider.NAME, "red\u001b[31m"));
        await("the provider refused", () -> said.size() == 3);
        assertTrue(said.get(2).contains("is not taken: name: 'red?[31m' (expected: a provider name of 1..32"
                + " characters of A-Z a-z 0-9 . _ -)"), said.get(2));
        assertEquals(List.of("heap"), engine.bindings().providers().stream().map(p -> p.name()).toList());
    }

    @Test
    void aDeviceWithoutQueueManagementOpsIsNotTaken() throws InterruptedException {
        engine.engine().refusals = (subject, message) -> said.add(subject + " | " + message);
        engine.addProvider(new HeapMemoryProvider(1L << 30), true);
        FakeDevice opless = new FakeDevice("plain0", 2, engine.factory());
        opless.ops = null;
        engine.addDevice(opless);
        await("the device refused", () -> !said.isEmpty());
        assertEquals("device 'plain0' of bundle -1 | network device 'plain0' is not taken: its queueOps() is null"
                + " (expected: the queue-management ops that restart its queues)", said.get(0));
        assertTrue(engine.bindings().devices().isEmpty(), "not taken");
    }
}

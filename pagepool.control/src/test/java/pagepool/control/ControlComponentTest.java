package pagepool.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import pagepool.api.PoolInfo;
import pagepool.api.PoolStats;
import pagepool.api.ProviderFaults;
import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.Change;
import pagepool.api.binding.DeviceInfo;
import pagepool.api.binding.PoolBindings;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.binding.RestartLatency;
import pagepool.api.config.ConfigProblem;
import pagepool.api.control.Device;
import pagepool.api.control.Pool;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueMemory;
import pagepool.api.queue.QueueMgmtOps;

class ControlComponentTest {

    /** The engine's bindings service, answering from lists the test fills; binds are recorded. */
    static final class FakeBindings implements PoolBindings {
        final List<BindingInfo> bindings = new ArrayList<>();
        final List<PoolInfo> pools = new ArrayList<>();
        final List<QueueInfo> queues = new ArrayList<>();
        final List<String> calls = new ArrayList<>();
        List<DeviceInfo> devices = List.of(new DeviceInfo("sim0", 4, false, true));

        @Override
        public BindingInfo bind(String device, List<Integer> q, String provider) {
            return bind(device, q, provider, "");
        }

        @Override
        public BindingInfo bind(String device, List<Integer> q, String provider, String origin) {
            calls.add("bind " + device + " " + q + " " + provider + " " + origin);
            return new BindingInfo(1, device, q, provider, "bundle:pagepool.control#9", origin,
                    BindingInfo.State.APPLIED, "");
        }

        @Override
        public BindingInfo bind(String device, List<Integer> q, pagepool.api.provider.MemoryProvider provider,
                String origin) {
            throw new UnsupportedOperationException("the control plane binds by name");
        }

        @Override
        public List<BindingInfo> unbind(String device, List<Integer> q) {
            calls.add("unbind " + device + " " + q);
            return List.of();
        }

        @Override
        public boolean unbind(long bindingId) {
            return false;
        }

        @Override
        public QueueInfo restartQueue(String device, int queue) {
            calls.add("restart " + device + "/" + queue);
            return new QueueInfo(new QueueId(device, queue), "heap", 0, 1, QueueInfo.State.OK, 1, "");
        }

        @Override
        public ProviderInfo resetProvider(String provider) {
            throw new IllegalArgumentException("provider: '" + provider + "' is unknown (expected: one of [heap])");
        }

        @Override
        public List<BindingInfo> bindings() {
            return bindings;
        }

        @Override
        public RestartLatency restartLatency() {
            return new RestartLatency(List.of(), List.of(0L), 0, 0, 0);
        }

        @Override
        public List<DeviceInfo> devices() {
            return devices;
        }

        @Override
        public List<QueueInfo> queues() {
            return queues;
        }

        @Override
        public List<ProviderInfo> providers() {
            return List.of(new ProviderInfo("heap", true, true, 0, 4, ProviderInfo.State.ACTIVE, null, null));
        }

        @Override
        public List<PoolInfo> pools() {
            return pools;
        }

        @Override
        public Change.Subscription subscribe(Consumer<Change> listener) {
            return () -> { };
        }
    }

    /** A driver that throws when asked for its details or carrier, and has no debugging aids. */
    static class RudeDevice implements NetDevice, QueueMgmtOps {
        @Override
        public QueueMgmtOps queueOps() {
            return this;
        }

        @Override
        public String name() {
            return "sim0";
        }

        @Override
        public int rxQueueCount() {
            return 4;
        }

        @Override
        public boolean headerSplit() {
            return false;
        }

        @Override
        public QueueMemory memAlloc(int queue) {
            throw new UnsupportedOperationException();
        }

        @Override
        public QueueMemory stop(int queue) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void start(int queue, QueueMemory memory) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void memFree(QueueMemory memory) {
        }

        @Override
        public Map<String, Long> queueStats(int queue) {
            if (queue == 2) {
                throw new IllegalStateException("queue 2 is sulking");
            }
            return Map.of("packets", 10L + queue);
        }

        @Override
        public Map<String, Object> details() {
            throw new IllegalStateException("no details today");
        }

        @Override
        public boolean carrier() {
            throw new IllegalStateException("no carrier today");
        }

        @Override
        public void setCarrier(boolean up) {
        }
    }

    /** A device with debugging aids, which remembers every reset mode it is given. */
    static class DebugDevice extends RudeDevice implements pagepool.api.queue.QueueDebug {
        ResetMode mode = ResetMode.POOL;
        final List<ResetMode> given = new ArrayList<>();

        @Override
        public String name() {
            return "sim1";
        }

        @Override
        public int rxQueueCount() {
            return 2;
        }

        @Override
        public Map<String, Long> queueStats(int queue) {
            return Map.of();
        }

        @Override
        public boolean holdPage(int queue) {
            return false;
        }

        @Override
        public int releaseHeldPages(int queue) {
            return 0;
        }

        @Override
        public int heldPages(int queue) {
            return 0;
        }

        @Override
        public void resetMode(ResetMode mode) {
            this.mode = mode;
            given.add(mode);
        }

        @Override
        public ResetMode resetMode() {
            return mode;
        }
    }

    @Test
    void aDriverThatNeverAnswersCostsItsOwnRowsOnlyAndIsNotAskedAgainWhileItOwesAnAnswer() throws Exception {
        java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        DebugDevice hung = new DebugDevice() {
            @Override
            public Map<String, Long> queueStats(int queue) {
                asked.incrementAndGet();
                try {
                    never.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return Map.of();
            }
        };
        ControlComponent c = new ControlComponent(engine, List.of(new RudeDevice(), hung), List.of(), null, null);
        try {
            var rows = c.devstats(null);
            assertEquals(6, rows.size(), "sim0's four rows and sim1's two");
            assertEquals(Map.of("packets", 13L), rows.get(3).counters(), "the other driver answered");
            assertEquals("queueStats did not answer within 500 ms", rows.get(4).error());
            assertEquals("queueStats: the driver has not answered an earlier call yet", c.devstats("sim1").get(0).error());
            assertEquals(1, asked.get(), "asked once: no thread piles up behind it");
        } finally {
            never.countDown();
            c.stop();
        }
    }

    @Test
    void aResetModeAppliesToTheResetItWasGivenForOnly() {
        DebugDevice dev = new DebugDevice();
        ControlComponent c = new ControlComponent(engine, List.of(dev), List.of(), null, null);
        c.queueReset("sim1", 1, pagepool.api.queue.QueueDebug.ResetMode.NAPI_STOPPED_FIRST);
        assertEquals(List.of("restart sim1/1"), engine.calls);
        assertEquals(List.of(pagepool.api.queue.QueueDebug.ResetMode.NAPI_STOPPED_FIRST,
                pagepool.api.queue.QueueDebug.ResetMode.POOL), dev.given, "set for the reset, then put back");
        assertEquals(pagepool.api.queue.QueueDebug.ResetMode.POOL, dev.resetMode(), "later binds swap as before");
    }

    private final FakeBindings engine = new FakeBindings();
    private final ControlComponent control = new ControlComponent(engine, List.of(new RudeDevice()), List.of(
            new ConfigProblem("pagepool.sim.device-sim9.cfg", "device sim9", "rx.queues: 0 (expected: 1..1024)",
                    Instant.parse("2026-12-06T10:00:00Z"))), null, null);

    @Test
    void jsonNamesAreTheRecordsInKebabCaseAsYnlNamesThem() {
        PoolInfo p = new PoolInfo(7, new QueueId("sim0", 1), "heap", PoolInfo.State.DETACHED, 3, 12288, 64, 61,
                Instant.parse("2026-12-06T10:00:00.5Z"), false, 0, ProviderFaults.NONE, Map.of("dmabuf", 2),
                new PoolStats(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
        String json = control.json(Pool.of(p, null));
        assertEquals("{\"id\":7,\"queue\":\"sim0/1\",\"role\":null,\"provider\":\"heap\",\"state\":\"DETACHED\","
                + "\"inflight\":3,\"inflight-mem\":12288,\"pages-taken\":64,\"pages-returned\":61,"
                + "\"detach-time\":\"2026-12-06T10:00:00.500Z\",\"stalled\":false,\"bad-releases\":0,"
                + "\"faults\":{\"init\":0,\"alloc\":0,\"release\":0,\"destroy\":0,\"other\":0,\"last\":\"\"},"
                + "\"provider-info\":{\"dmabuf\":2},\"stats\":{\"alloc-fast\":1,\"alloc-slow\":2,"
                + "\"alloc-slow-high-order\":3,\"alloc-empty\":4,\"alloc-refill\":5,\"alloc-waive\":6,"
                + "\"recycle-cached\":7,\"recycle-cache-full\":8,\"recycle-ring\":9,\"recycle-ring-full\":10,"
                + "\"recycle-released-refcnt\":11}}", json);
    }

    @Test
    void jsonIsOnlyForTheApisTypes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> control.json(new Object()));
        assertEquals("value: a java.lang.Object (expected: a record of pagepool.api or a list of them)",
                e.getMessage());
        assertEquals("[]", control.json(List.of()));
    }

    @Test
    void aBindToAProviderNotPresentIsRefusedAndNeverReachesTheEngine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> control.bind("sim0", List.of(1), "hugepag", "pp:bind"));
        assertTrue(e.getMessage().startsWith("provider: 'hugepag' is not present (expected: one of [heap];"),
                e.getMessage());
        assertEquals(List.of(), engine.calls);
        control.bind("sim0", List.of(1), "heap", "HTTP");
        assertEquals(List.of("bind sim0 [1] heap HTTP"), engine.calls);
    }

    @Test
    void whatADriverThrowsIsSaidInPlaceOfItsAnswer() {
        List<Device> devices = control.devices();
        assertEquals(2, devices.size(), "sim0, and the refused configuration of sim9");
        Device sim0 = devices.get(0);
        assertFalse(sim0.carrier());
        assertEquals("details failed: java.lang.IllegalStateException: no details today", sim0.details().get("error"));
        assertEquals(new Device("sim9", 0, false, false, false, Map.of(), "refused",
                "pagepool.sim.device-sim9.cfg: rx.queues: 0 (expected: 1..1024)"), devices.get(1));
        var stats = control.devstats("sim0");
        assertEquals(4, stats.size());
        assertEquals("queueStats failed: queue 2 is sulking", stats.get(2).error());
        assertEquals(Map.of("packets", 13L), stats.get(3).counters());
    }

    @Test
    void aQueueOutOfRangeIsRefusedBeforeAnythingChanges() {
        assertEquals("queue: '4' (expected: 0..3 on sim0)", assertThrows(IllegalArgumentException.class,
                () -> control.queueReset("sim0", 4, null)).getMessage());
        assertEquals("device sim0 has no debugging aids (expected: a simulated device)", assertThrows(
                IllegalArgumentException.class, () -> control.queueReset("sim0", 1,
                        pagepool.api.queue.QueueDebug.ResetMode.NAPI)).getMessage());
        assertEquals("device: 'eth9' is unknown (expected: one of [sim0])", assertThrows(IllegalArgumentException.class,
                () -> control.pageHold("eth9", 0, true)).getMessage());
        assertEquals(List.of(), engine.calls, "no restart was asked of the engine");
        assertEquals("sim0/1", control.queueReset("sim0", 1, null).queue().toString());
    }

    @Test
    void aFailedBindingIsAProblemWhoseSinceStaysPut() throws Exception {
        engine.bindings.add(new BindingInfo(5, "sim0", List.of(), "heap", "config:pagepool.binding~x",
                "file pagepool.binding-x.cfg", BindingInfo.State.FAILED, "queues: '1-9' (expected: 0..3 on sim0)"));
        List<ConfigProblem> first = control.problems();
        assertEquals(2, first.size());
        assertEquals("device sim9", first.get(0).subject(), "oldest first");
        assertEquals("binding 5 (sim0 [] -> heap)", first.get(1).subject());
        assertEquals("file pagepool.binding-x.cfg", first.get(1).source());
        assertEquals(first, control.problems(), "the same refusal, the same since");
        engine.bindings.clear();
        assertEquals(1, control.problems().size(), "gone once the binding is");
    }

    @Test
    void udpSendWithoutASenderSaysWhatToInstall() {
        assertEquals("no datagram sender: install driver.uring (copy extra/driver.uring-*.jar into load/)",
                assertThrows(IllegalStateException.class, () -> control.udpSend("127.0.0.1:9", 100, 1, 0))
                        .getMessage());
        assertEquals("no device-memory provider: install provider.devmem (copy extra/provider.devmem-*.jar into"
                + " load/)", assertThrows(IllegalStateException.class, control::dmabufs).getMessage());
    }
}

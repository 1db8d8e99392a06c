package pagepool.driver.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pagepool.api.testing.Await.await;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.testing.TestProvider;
import pagepool.engine.StandaloneEngine;
import pagepool.provider.heap.HeapMemoryProvider;

/**
 * Real frames through a veth pair into a device on the engine: the kernel sends them
 * ({@link XdpFrameSource}), the program steers them, the queues receive them into pool pages.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class XdpDeviceTest {

    static final int PORT = 9000;
    final StandaloneEngine engine = new StandaloneEngine(10, 60_000);
    final HeapMemoryProvider heap = new HeapMemoryProvider(1L << 30);
    Veth veth;
    XdpDevice device;
    XdpFrameSource source;

    @BeforeEach
    void veth() throws Exception {
        String why = Veth.unavailable();
        Assumptions.assumeTrue(why == null, why);
        veth = Veth.orSkip("ppx", 2);
        engine.addProvider(heap, true);
    }

    /** The engine closes last, whatever the device's close throws; the pair goes with the test. */
    @AfterEach
    void tearDown() throws Exception {
        try (StandaloneEngine e = engine; Veth v = veth) {
            if (source != null) {
                source.close();
            }
            if (device != null) {
                device.close();
            }
        }
    }

    XdpSettings.Builder settings() {
        return XdpSettings.builder("xdp0").ifname(veth.receiver).rxQueues(2).ringSize(2048).umemFrames(4096);
    }

    XdpDevice open(XdpSettings.Builder s) throws InterruptedException {
        device = new XdpDevice(s.build(), engine.factory());
        engine.addDevice(device);
        await("every queue running", () -> engine.bindings().queues().stream()
                .allMatch(q -> q.state() == QueueInfo.State.OK));
        source = new XdpFrameSource(veth.sender);
        return device;
    }

    /** Sends {@code count} frames from CPU {@code cpu}: they arrive at the queue of that number. */
    void send(int cpu, long count, int payload) {
        source.send(XdpFrameSource.mac(veth.receiver), 0x0a000001, 0x0a000002, 40000 + cpu, PORT, payload, count, cpu);
    }

    long total(String counter) {
        long n = 0;
        for (int q = 0; q < device.rxQueueCount(); q++) {
            n += device.queueStats(q).get(counter);
        }
        return n;
    }

    Map<String, Long> stats() {
        Map<String, Long> m = new TreeMap<>();
        for (int q = 0; q < device.rxQueueCount(); q++) {
            for (Map.Entry<String, Long> e : device.queueStats(q).entrySet()) {
                m.merge(e.getKey(), e.getValue(), Long::sum);
            }
        }
        return m;
    }

    /**
     * Every frame sent was received, dropped by a queue, or missed by the interface (its RX ring
     * was full), each counted; none received was corrupt.
     */
    void assertAccounted(long sent) throws InterruptedException {
        try {
            await("sent = received + dropped", () -> total("packets") + total("drops") + device.missed() == sent);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + ": sent " + sent + ", " + stats() + " " + device.details(), e);
        }
        assertEquals(0, total("corrupt"), () -> stats().toString());
        assertEquals(0, total("malformed"), () -> stats().toString());
        assertEquals(total("packets"), total("verified"), () -> stats().toString());
    }

    @Test
    void framesOnEveryQueueLandInPoolPagesVerifiedAndAccounted() throws Exception {
        open(settings());
        assertTrue(String.valueOf(device.details().get("zero-copy")).startsWith("off"),
                "veth has no zero-copy: " + device.details());
        send(0, 100_000, 64);
        send(1, 100_000, 1472);
        assertAccounted(200_000);
        assertTrue(device.queueStats(0).get("packets") > 0 && device.queueStats(1).get("packets") > 0,
                "frames sent from CPU n arrive at queue n: " + stats());
        assertEquals(0, total("errors"));
        assertEquals(0, total("outside-umem"));
        assertTrue(veth.show().contains("xdp"), "the program is attached: " + veth.show());
    }

    @Test
    void queuesSwapProvidersUnderTrafficAndEveryFrameIsAccounted() throws Exception {
        open(settings());
        TestProvider other = new TestProvider("other");
        engine.addProvider(other, false);
        AtomicBoolean run = new AtomicBoolean(true);
        AtomicLong sent = new AtomicLong();
        Thread[] senders = new Thread[2];
        for (int cpu = 0; cpu < 2; cpu++) {
            int c = cpu;
            senders[cpu] = new Thread(() -> {
                while (run.get()) {
                    send(c, 20_000, 64);
                    sent.addAndGet(20_000);
                }
            });
            senders[cpu].start();
        }
        await("traffic", () -> total("packets") > 10_000);
        for (int i = 0; i < 5; i++) {
            BindingInfo b = engine.bindings().bind("xdp0", List.of(0, 1), "other");
            assertEquals(BindingInfo.State.APPLIED, b.state(), b.message());
            await("traffic on the other provider", () -> total("packets") > 0);
            engine.bindings().unbind("xdp0", List.of(0, 1));
        }
        run.set(false);
        for (Thread t : senders) {
            t.join();
        }
        assertAccounted(sent.get());
        assertEquals(20, total("restarts"));
        await("the other provider's pools drained and destroyed", () -> other.pagesOut.get() == 0
                && other.destroys.get() == other.inits.get());
    }

    @Test
    void datagramsGoToTheConsumerInPlaceAndAKeptPageComesBackLater() throws Exception {
        open(settings().rxQueues(1));
        AtomicLong seen = new AtomicLong();
        AtomicLong wrong = new AtomicLong();
        java.util.List<Object[]> kept = new java.util.ArrayList<>();
        device.consumer(d -> {
            if (d.length() != 100 || d.sourcePort() != 40000 || d.sourceAddress() != 0x0a000001
                    || pagepool.kit.traffic.Traffic.verify(d.data(), 0, d.length()) != pagepool.kit.traffic.Traffic.VERIFIED) {
                wrong.incrementAndGet();
            }
            if (seen.incrementAndGet() % 10 == 0) {
                d.keep();
                kept.add(new Object[] {d.pool(), d.page(), d.generation()});
            }
        });
        send(0, 1000, 100);
        await("delivered", () -> total("delivered") + total("drops") + device.missed() == 1000);
        assertEquals(0, wrong.get(), "each datagram's payload, length and sender, in the page");
        assertEquals(total("delivered") / 10, total("kept"));
        for (Object[] k : kept) {
            ((pagepool.api.PagePool) k[0]).release((pagepool.api.Netmem) k[1], (Integer) k[2]);
        }
        device.consumer(null);
        send(0, 1000, 100);
        await("no consumer: the device verifies", () -> total("packets") + total("drops") + device.missed() == 2000);
        assertEquals(total("packets") - total("delivered"), total("verified"));
        assertEquals(0, total("corrupt"));
    }

    @Test
    void aProviderThatIgnoresContiguityIsRefusedNamingWhatItGave() throws Exception {
        open(settings());
        TestProvider liar = new TestProvider("liar").ignoresContiguity(true);
        engine.addProvider(liar, false);
        BindingInfo b = engine.bindings().bind("xdp0", List.of(0), "liar");
        assertFalse(b.state() == BindingInfo.State.APPLIED, b.toString());
        assertTrue(b.message().contains("expected: one contiguous range of 4096 pages"), b.message());
        await("the liar's pages all back", () -> liar.pagesOut.get() == 0);
        send(0, 1000, 64);
        assertAccounted(1000); // the queue still runs on the heap
    }

    @Test
    void stopCountsWhatArrivesAndStartResumes() throws Exception {
        open(settings().rxQueues(1));

        var mem = device.queueOps().stop(0);
        send(0, 1000, 64);
        send(1, 1000, 64); // queue 1 has no socket of this device: its frames are the program's to count, not ours
        assertEquals(0, total("packets"), "a stopped queue receives nothing");
        assertEquals(1000, total("drops"), "...and counts what it could not take: " + stats());
        assertEquals(1000L, device.droppedOnOtherQueues(), "queue 1 is not the device's: " + device.details());
        device.queueOps().start(0, mem);
        send(0, 1000, 64);
        assertAccounted(2000);
    }

    @Test
    void linkDownFreesTheUmemsAndAHeldPageKeepsItsPoolUntilItComesBack() throws Exception {
        open(settings());
        send(0, 1000, 64);
        assertAccounted(1000);
        assertTrue(device.holdPage(0));
        assertEquals(1, device.heldPages(0));
        device.setAdminUp(false);
        await("the engine took xdp0 down", () -> !engine.bindings().devices().get(0).up());
        await("only the held page's pool left, detached", () -> engine.bindings().pools().size() == 1
                && engine.bindings().pools().get(0).inflight() == 1);
        send(0, 1000, 64);
        assertAccounted(2000); // dropped while down, and counted
        assertEquals(1000, total("unbound-drops"));
        assertEquals(1, device.releaseHeldPages(0));
        await("the last page back destroys the pool", () -> engine.bindings().pools().isEmpty());
        device.setAdminUp(true);
        await("up again", () -> engine.bindings().queues().stream().allMatch(q -> q.state() == QueueInfo.State.OK));
        send(1, 1000, 64);
        assertAccounted(3000);
        assertEquals(2000, total("packets"));
    }

    @Test
    void inResetModeNapiStoppedFirstAStopCountsWhatTheRingHeld() throws Exception {
        open(settings().rxQueues(1));
        device.resetMode(pagepool.api.queue.QueueDebug.ResetMode.NAPI_STOPPED_FIRST);
        assertFalse(device.queueOps().canSwap(0), "no swap on AF_XDP in any mode");
        AtomicBoolean run = new AtomicBoolean(true);
        AtomicLong sent = new AtomicLong();
        Thread sender = new Thread(() -> {
            while (run.get()) {
                send(0, 50_000, 64);
                sent.addAndGet(50_000);
            }
        });
        sender.start();
        await("traffic", () -> total("packets") > 10_000);
        for (int i = 0; i < 3; i++) {
            var mem = device.queueOps().stop(0);
            device.queueOps().start(0, mem);
        }
        run.set(false);
        sender.join();
        assertAccounted(sent.get());
        assertEquals(3, total("restarts"));
    }

    @Test
    void closingUnderTrafficDetachesTheProgramAndFreesEveryPage() throws Exception {
        open(settings());
        Thread sender = new Thread(() -> send(0, 2_000_000, 64));
        sender.start();
        await("traffic", () -> total("packets") > 10_000);
        device.close();
        sender.join();
        assertFalse(veth.show().contains("prog/xdp"), "no XDP program left: " + veth.show());
        // Every pool destroyed: each page the kernel held came back when its socket closed.
        await("every pool destroyed", () -> engine.bindings().pools().isEmpty());
        engine.removeDevice(device);
        device = null;
    }

    @Test
    void badInputIsAnsweredInOneLine() throws Exception {
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> new XdpDevice(settings().ifname("ppnone0").build(), engine.factory()));
        assertEquals("interface: 'ppnone0' (expected: an interface of this host's network namespace; ip link lists"
                + " them)", none.getMessage());
        IllegalArgumentException many = assertThrows(IllegalArgumentException.class,
                () -> new XdpDevice(settings().rxQueues(3).build(), engine.factory()));
        assertEquals("rx.queues: 3 (expected: at most 2, the RX queues " + veth.receiver + " has)", many.getMessage());
        open(settings());
        IllegalStateException busy = assertThrows(IllegalStateException.class,
                () -> new XdpDevice(settings().build(), engine.factory()));
        assertTrue(busy.getMessage().contains("an XDP program is attached to " + veth.receiver + " already"),
                busy.getMessage());
        // The loopback has no XDP in its driver: native mode is refused (and nothing is attached to it).
        IllegalStateException noXdp = assertThrows(IllegalStateException.class,
                () -> new XdpDevice(settings().ifname("lo").rxQueues(1).build(), engine.factory()));
        assertTrue(noXdp.getMessage().startsWith("lo: attaching the XDP program in native mode: "), noXdp.getMessage());
        assertTrue(noXdp.getMessage().endsWith("(no native XDP support on lo; mode=generic works everywhere)"),
                noXdp.getMessage());
        IllegalArgumentException port = assertThrows(IllegalArgumentException.class,
                () -> settings().ports(List.of(0)).build());
        assertEquals("ports: 0 (expected: 1..65535)", port.getMessage());
    }
}

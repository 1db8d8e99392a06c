package pagepool.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import javax.inject.Inject;

import org.junit.Test;

import pagepool.api.MemoryArea;
import pagepool.api.PagePoolFactory;
import pagepool.api.PoolParams;
import pagepool.api.QueueId;
import pagepool.api.binding.QueueList;
import pagepool.api.queue.NetDevice;

/**
 * Bad input through the Java API, from a bundle that is not the driver: each refused with one line
 * naming the value and what was expected, and nothing changes (queues, pools and bindings as the
 * binding service lists them are equal before and after). The shell, files and jars are covered by
 * the runtime's own test, {@code BadInputIT}.
 */
public class ApiBadInputIT extends PagepoolTestBase {

    @Inject
    private PagePoolFactory factory;

    /** A call that must be refused. */
    private interface Call {
        void run() throws Exception;
    }

    private String snapshot() {
        return bindings.queues() + "\n" + bindings.pools() + "\n" + bindings.bindings();
    }

    private void settled() throws InterruptedException {
        Felix.await("the counters settle", () -> snapshot().equals(snapshot()));
    }

    private void refused(List<String> failures, String what, String expected, Call call) {
        String before = snapshot();
        try {
            call.run();
            failures.add(what + ": accepted (expected: " + expected + ")");
            return;
        } catch (Exception e) {
            String m = e.getMessage();
            if (m == null || !m.contains(expected) || m.contains("\n")) {
                failures.add(what + ": '" + m + "' (expected one line containing: " + expected + ")");
            }
        }
        String after = snapshot();
        if (!before.equals(after)) {
            failures.add(what + ": the state changed");
        }
    }

    @Test
    public void badInputThroughTheJavaApiIsRefusedInOneLineAndChangesNothing() throws Exception {
        NetDevice dev = startDevice(Map.of());
        dev.setCarrier(false);
        // A binding made by a configuration file: not the test bundle's to remove.
        org.osgi.service.cm.Configuration c = configAdmin.createFactoryConfiguration("pagepool.binding", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("device", "sim0");
        p.put("queues", "3");
        p.put("provider", "heap");
        c.update(p);
        Felix.await("the configured binding", () -> bindings.queues().get(3).bindingId() != 0);
        settled();

        List<String> failures = new ArrayList<>();
        PoolParams.Builder q = PoolParams.builder();
        refused(failures, "pool for sim0/99", "queue: 99 (expected: 0..3 on sim0)",
                () -> factory.create(q.queue("sim0", 99).build()));
        refused(failures, "pool for eth9/0", "queue eth9/0: device 'eth9' is not registered (expected: a queue of a"
                + " registered device, one of [sim0])", () -> factory.create(q.queue("eth9", 0).build()));
        refused(failures, "pool for sim0/1 from another bundle", "queue sim0/1 belongs to the driver that registered"
                + " sim0", () -> factory.create(q.queue("sim0", 1).build()));
        refused(failures, "unknown flags", "flags: 0x10 (expected: a combination of DMA_MAP 0x1",
                () -> PoolParams.builder().flags(0x10).build());
        refused(failures, "order 11", "order: 11 (expected: 0..10)", () -> PoolParams.builder().order(11).build());
        refused(failures, "pool size 0", "poolSize: 0 (expected: 1..16384)", () -> PoolParams.builder().poolSize(0).build());
        refused(failures, "pool size 100000", "poolSize: 100000 (expected: 1..16384)",
                () -> PoolParams.builder().poolSize(100_000).build());
        refused(failures, "max len 5000", "maxLen: 5000 (expected: 0..4096", () -> PoolParams.builder().maxLen(5000).build());
        refused(failures, "offset past the page", "offset: 4000 (expected: 0..3896",
                () -> PoolParams.builder().maxLen(200).offset(4000).build());
        refused(failures, "sync without map", "flags: DMA_SYNC_DEV without DMA_MAP",
                () -> PoolParams.builder().flags(PoolParams.DMA_SYNC_DEV).maxLen(64).build());
        refused(failures, "sync without max len", "maxLen: 0 with DMA_SYNC_DEV",
                () -> PoolParams.builder().flags(PoolParams.DMA_MAP | PoolParams.DMA_SYNC_DEV).build());
        refused(failures, "node -5", "nid: -5 (expected: -1 for no node, or >= 0)",
                () -> PoolParams.builder().nid(-5).build());
        refused(failures, "blank device", "device: ' ' (expected: a device name)", () -> new QueueId(" ", 1));
        refused(failures, "negative queue", "queue index: -1 (expected: >= 0)", () -> new QueueId("sim0", -1));
        refused(failures, "queue list 0-99999", "queue 99999 is beyond the largest index 4095",
                () -> QueueList.parse("0-99999"));
        refused(failures, "bind no queue", "queues: [] (expected: at least one queue index)",
                () -> bindings.bind("sim0", List.of(), "heap"));
        refused(failures, "bind a queue twice", "queues: [1, 1] (expected: each queue once)",
                () -> bindings.bind("sim0", List.of(1, 1), "heap"));
        refused(failures, "bind queue 9", "queue: 9 (expected: 0..3 on sim0)", () -> bindings.bind("sim0", List.of(9), "heap"));
        refused(failures, "bind no device", "device: 'null' (expected: a device name)",
                () -> bindings.bind(null, List.of(1), "heap"));
        refused(failures, "bind blank provider", "provider: ' ' (expected: a provider name)",
                () -> bindings.bind("sim0", List.of(1), " "));
        refused(failures, "bind unknown device", "device: 'eth9' is unknown (expected: one of [sim0])",
                () -> bindings.bind("eth9", List.of(1), "heap"));
        refused(failures, "bind a queue a file holds", "queue sim0/3 is already bound to provider 'heap' by binding",
                () -> bindings.bind("sim0", List.of(3), "heap"));
        refused(failures, "unbind a queue without binding", "queue sim0/1 has no binding",
                () -> bindings.unbind("sim0", List.of(1)));
        refused(failures, "unbind a file's binding", "queue sim0/3 is bound by config:" + c.getPid()
                + " (expected: only its owner changes it; delete its configuration to unbind)",
                () -> bindings.unbind("sim0", List.of(3)));
        refused(failures, "unbind a file's binding by id", "is bound by config:" + c.getPid(),
                () -> bindings.unbind(bindings.queues().get(3).bindingId()));
        refused(failures, "reset an unknown provider", "provider: 'nope' is unknown (expected: one of [heap])",
                () -> bindings.resetProvider("nope"));
        // Nulls get the one-line form too, never a bare NullPointerException.
        refused(failures, "a pool of no parameters", "params: null (expected: pool parameters",
                () -> factory.create(null));
        refused(failures, "bind a null queue", "queues: [null] (expected: queue indexes, none of them null)",
                () -> bindings.bind("sim0", java.util.Arrays.asList((Integer) null), "heap"));
        refused(failures, "unbind no queue list", "queues: null (expected: at least one queue index)",
                () -> bindings.unbind("sim0", null));
        refused(failures, "restart a queue of no device", "device: 'null' (expected: a device name)",
                () -> bindings.restartQueue(null, 0));
        refused(failures, "offset that wraps with maxLen", "offset: 2147483647 (expected: 0..4095",
                () -> PoolParams.builder().offset(Integer.MAX_VALUE).maxLen(1).build());
        pagepool.api.PagePool own = factory.create(PoolParams.builder().build());
        try {
            refused(failures, "alloc into no array", "out: null (expected: an array for the netmems)",
                    () -> own.alloc(null, 1));
            refused(failures, "a fragment into no Frag", "out: null (expected: a Frag to fill)",
                    () -> own.allocFrag(100, null));
        } finally {
            own.close();
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(8192, 4096);
            refused(failures, "area page shift 11", "pageShift: 11 (expected: 12..22)",
                    () -> MemoryArea.readable("x", seg).pageShift(11).build());
            refused(failures, "area not whole pages", "size: 6000 (expected: a positive multiple of the page size 4096)",
                    () -> MemoryArea.readable("x", seg.asSlice(0, 6000)).build());
            refused(failures, "area buffer id -1", "bufferId: -1 (expected: >= 0)",
                    () -> MemoryArea.unreadable("x", 1L << 40, 4096).bufferId(-1).build());
            refused(failures, "area at an odd IOVA", "dmaAddress: 0x10000000001 (expected: aligned to the page size 4096)",
                    () -> MemoryArea.unreadable("x", (1L << 40) + 1, 4096).build());
            refused(failures, "area whose last page's address wraps", "dmaAddress: 0x7ffffffffffff000 with size 8192"
                    + " (expected: an area that ends at or below 0x7fffffffffffffff)",
                    () -> MemoryArea.unreadable("x", 0x7ffffffffffff000L, 8192).build());
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of 38 bad inputs were not refused as expected:\n" + String.join("\n", failures));
        }
        assertEquals("the file's binding stands", c.getPid(), bindings.bindings().get(0).owner().substring("config:".length()));
        assertTrue(bindings.bindings().size() == 1);
        assertFalse(bindings.queues().get(3).bindingId() == 0);
        c.delete();
    }
}

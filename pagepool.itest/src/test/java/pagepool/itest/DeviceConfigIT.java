package pagepool.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.junit.Test;
import org.osgi.framework.Bundle;

import pagepool.api.PoolInfo;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.config.ConfigProblem;
import pagepool.api.queue.NetDevice;

/**
 * Editing a device's configuration while it runs: every key takes effect on save (carrier and
 * administrative state in place, the rest by rebuilding the device), bindings follow the device by
 * name, and an edit that cannot apply is refused while the device keeps its last good settings.
 */
public class DeviceConfigIT extends PagepoolTestBase {

    private List<Integer> poolIds() {
        return bindings.queues().stream().map(QueueInfo::poolId).toList();
    }

    private void edit(Map<String, Object> changes) throws Exception {
        Dictionary<String, Object> p = deviceConfig.getProperties();
        changes.forEach(p::put);
        deviceConfig.update(p);
    }

    @Test
    public void everyKeyTakesEffectOnSaveAndABadEditChangesNothing() throws Exception {
        NetDevice first = startDevice(Map.of());
        Bundle providers = context.installBundle(Felix.testProviderLocation());
        providers.start();
        Felix.await("testmem", () -> bindings.providers().stream().anyMatch(p -> p.name().equals("testmem")));
        BindingInfo b = bindings.bind("sim0", List.of(1), "testmem");
        assertEquals(BindingInfo.State.APPLIED, b.state());

        // Carrier off: in place, nothing rebuilt.
        List<Integer> pools = poolIds();
        edit(Map.of("traffic", false));
        Felix.await("carrier off", () -> !first.carrier());
        assertEquals("the same pools", pools, poolIds());
        assertTrue(first == device());

        // A key that shapes the device: rebuilt with it, the binding applies to the new one.
        edit(Map.of("traffic", true, "rx.queues", 6));
        Felix.await("sim0 rebuilt with 6 queues", () -> bindings.queues().size() == 6
                && bindings.queues().stream().allMatch(q -> q.state() != QueueInfo.State.DOWN || !q.provider().isEmpty()));
        NetDevice rebuilt = device();
        assertEquals(6, rebuilt.rxQueueCount());
        Felix.await("queue 1 on testmem again", () -> bindings.queues().get(1).provider().equals("testmem"));
        Felix.await("traffic on queue 5", () -> stat(rebuilt, 5, "packets") > 500);

        // Administratively down and up from the file.
        edit(Map.of("up", false));
        Felix.await("sim0 down, no active pool", () -> !bindings.devices().get(0).up()
                && bindings.pools().stream().noneMatch(p -> p.queue() != null && p.state() == PoolInfo.State.ACTIVE));
        edit(Map.of("up", true));
        Felix.await("sim0 up again", () -> bindings.devices().get(0).up()
                && bindings.queues().stream().allMatch(q -> q.state() == QueueInfo.State.OK));

        // An edit that cannot apply: refused, listed, and the device keeps running as it was.
        List<Integer> before = poolIds();
        edit(Map.of("ring.size", 1000));
        Felix.await("the edit refused", () -> context.getServiceReference(ConfigProblem.class) != null);
        ConfigProblem p = context.getService(context.getServiceReference(ConfigProblem.class));
        assertEquals("device sim0", p.subject());
        assertEquals("ring.size: 1000 (expected: a power of 2 in 16..16384); sim0 keeps running with its last good"
                + " configuration", p.message());
        assertEquals("not rebuilt", before, poolIds());
        assertTrue(rebuilt == device());
        long packets = stat(rebuilt, 0, "packets");
        Felix.await("traffic goes on", () -> stat(rebuilt, 0, "packets") > packets + 500);

        edit(Map.of("ring.size", 512));
        Felix.await("a good edit withdraws the refusal", () -> context.getServiceReference(ConfigProblem.class) == null);
    }
}

package pagepool.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.Test;
import org.osgi.framework.Bundle;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import pagepool.api.binding.BindingInfo;
import pagepool.api.queue.NetDevice;

/** The engine's Flight Recorder events, recorded in Felix (the JDK rewrites them in the engine bundle). */
public class FlightRecorderIT extends PagepoolTestBase {

    @Test
    public void restartsAndPoolStatisticsAreRecordedInTheFramework() throws Exception {
        List<RecordedEvent> events = new CopyOnWriteArrayList<>();
        try (RecordingStream rs = new RecordingStream()) {
            rs.enable("pagepool.QueueRestart");
            rs.enable("pagepool.PoolStatistics").withPeriod(Duration.ofMillis(100));
            rs.onEvent(events::add);
            rs.startAsync();
            NetDevice dev = startDevice(Map.of());
            Bundle huge = context.installBundle(Felix.bundleLocation("provider.hugepage"));
            huge.start();
            Felix.await("hugepage registered", () -> bindings.providers().stream()
                    .anyMatch(x -> x.name().equals("hugepage")));
            BindingInfo b = bindings.bind("sim0", List.of(2), "hugepage");
            assertEquals(b.message(), BindingInfo.State.APPLIED, b.state());
            Felix.await("the restart recorded", () -> events.stream().anyMatch(e -> e.getEventType().getName()
                    .equals("pagepool.QueueRestart") && "hugepage".equals(e.getString("toProvider"))));
            RecordedEvent r = events.stream().filter(e -> e.getEventType().getName().equals("pagepool.QueueRestart")
                    && "hugepage".equals(e.getString("toProvider"))).findFirst().orElseThrow();
            assertEquals("sim0", r.getString("device"));
            assertEquals(2, r.getInt("queue"));
            assertTrue("a hitless swap: " + r, r.getBoolean("hitless"));
            assertEquals("the sim counts drops: none in a swap", 0L, r.getLong("dropped"));
            Felix.await("statistics of the huge-page pool", () -> events.stream().anyMatch(e -> e.getEventType()
                    .getName().equals("pagepool.PoolStatistics") && "hugepage".equals(e.getString("provider"))
                    && e.getLong("allocSlow") > 0));
            bindings.unbind("sim0", List.of(2));
            huge.uninstall();
            assertTrue(stat(dev, 2, "packets") > 0);
        }
    }
}

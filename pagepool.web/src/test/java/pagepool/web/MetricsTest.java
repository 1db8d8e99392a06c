package pagepool.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The Prometheus text this bundle writes. */
class MetricsTest {

    @Test
    void eachFamilyHasItsHelpAndTypeOnceAndLabelValuesAreEscaped() {
        Metrics m = new Metrics();
        m.sample("pagepool_x_total", "counter", "x", 1, "device", "sim0", "queue", "0");
        m.sample("pagepool_x_total", "counter", "x", 2, "device", "we\"ird\\name\n", "queue", "1");
        m.sample("pagepool_y", "gauge", "y", -3);
        assertEquals("""
                # HELP pagepool_x_total x
                # TYPE pagepool_x_total counter
                pagepool_x_total{device="sim0",queue="0"} 1
                pagepool_x_total{device="we\\"ird\\\\name\\n",queue="1"} 2
                # HELP pagepool_y y
                # TYPE pagepool_y gauge
                pagepool_y -3
                """, m.render());
    }

    @Test
    void counterNamesBecomeMetricNames() {
        assertEquals("recycle_released_refcnt", Metrics.name("recycle-released-refcnt"));
        assertEquals("iotlb_misses", Metrics.name("IOTLB misses"));
    }
}

package pagepool.kit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** Property names as Declarative Services derives them from a configuration type's methods. */
class ConfigValuesTest {

    @interface Config {
        String interface$() default "eth0";

        int rx_queues() default 1;

        String odd__name() default "";

        String dash$_$ed() default "";
    }

    @Test
    void methodNamesMapToPropertyNamesAsDsMapsThem() {
        Config c = ConfigValues.typed(Config.class, Map.of("interface", "veth1", "rx.queues", "3", "odd_name", "x",
                "dash-ed", "y"));
        assertEquals("veth1", c.interface$(), "a '$' is dropped: a Java keyword becomes a key");
        assertEquals(3, c.rx_queues());
        assertEquals("x", c.odd__name());
        assertEquals("y", c.dash$_$ed());
        ConfigValues v = new ConfigValues(Map.of("interface", "veth1", "rx.queue", "3"));
        v.noUnknownKeys(Config.class);
        assertEquals(1, v.problems().size(), String.valueOf(v.problems()));
        assertTrue(v.problems().get(0).startsWith("rx.queue: unknown key"), v.problems().get(0));
    }
}

package pagepool.kit.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SettingsCheckTest {

    @Test
    void everyBadValueIsNamedAtOnce() {
        SettingsCheck check = new SettingsCheck().deviceName("name", "eth0").range("rx.queues", 0, 1, 64)
                .powerOfTwo("ring.size", 1000, 16, 16384).range("share", 1.5, 0, 1).that(false, "page.order", 0, "4 with gro");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, check::done);
        assertEquals("rx.queues: 0 (expected: 1..64); ring.size: 1000 (expected: a power of 2 in 16..16384);"
                + " share: 1.5 (expected: 0.0..1.0); page.order: 0 (expected: 4 with gro)", e.getMessage());
    }

    @Test
    void goodValuesPass() {
        new SettingsCheck().deviceName("name", "sim0").range("rx.queues", 4, 1, 64).powerOfTwo("ring.size", 1024, 16, 16384)
                .range("share", Double.NaN, 0, 1).ok();
        SettingsCheck nan = new SettingsCheck().range("share", Double.NaN, 0, 1);
        assertEquals("share: NaN (expected: 0.0..1.0)", assertThrows(IllegalArgumentException.class, nan::done)
                .getMessage());
        new SettingsCheck().range("x", 5, 0, Long.MAX_VALUE).done();
    }
}

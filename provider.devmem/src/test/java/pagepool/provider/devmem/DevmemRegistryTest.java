package pagepool.provider.devmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import pagepool.api.devmem.DmaBufInfo;
import pagepool.api.testing.Configs;

/** Buffers belong to the bundle that made them, fit the device's memory, and sit at IOVAs of the device. */
class DevmemRegistryTest {

    private final Map<String, Object> props = Map.of("memory.bytes", String.valueOf(64L << 20));
    private final DevmemRegistry registry = new DevmemRegistry(null, null,
            Configs.of(DevmemRegistry.Config.class, props), props);

    @Test
    void onlyTheBundleThatMadeABufferBindsOrDestroysIt() {
        DmaBufInfo b = registry.create(1 << 20, "bundle:app#10");
        assertEquals("buffer " + b.id() + " belongs to bundle:app#10 (expected: only the bundle that made it changes it)",
                assertThrows(IllegalArgumentException.class, () -> registry.destroy(b.id(), "bundle:other#11"))
                        .getMessage());
        assertEquals("buffer " + b.id() + " belongs to bundle:app#10 (expected: only the bundle that made it changes it)",
                assertThrows(IllegalArgumentException.class,
                        () -> registry.bind(b.id(), "sim1", List.of(1), "bundle:other#11")).getMessage());
        assertEquals(1, registry.buffers().size(), "nothing changed");
        assertTrue(registry.destroy(b.id(), "bundle:app#10"));
        assertFalse(registry.destroy(b.id(), "bundle:app#10"), "gone");
    }

    @Test
    void buffersFitTheDevicesMemoryAndSitAtDeviceIovas() {
        DmaBufInfo a = registry.create(32L << 20, "o");
        assertEquals("size: 67108864 (expected: a positive multiple of 4096, at most 33554432: the device has 67108864"
                + " bytes and 33554432 are in buffers)", assertThrows(IllegalArgumentException.class,
                        () -> registry.create(64L << 20, "o")).getMessage());
        DmaBufInfo b = registry.create(32L << 20, "o");
        assertTrue(registry.destroy(a.id(), "o"));
        DmaBufInfo c = registry.create(16L << 20, "o");
        assertTrue(c.id() > b.id());
        assertEquals(3, List.of(a, b, c).stream().map(DmaBufInfo::id).distinct().count());
    }

    @Test
    void aBadConfigurationIsRefusedAndTheDeviceKeepsItsMemory() {
        Map<String, Object> bad = Map.of("memory.bytes", "5000");
        registry.modified(Configs.of(DevmemRegistry.Config.class, bad), bad);
        assertEquals(64L << 20, registry.create(64L << 20, "o").size(), "still 64 MiB");
    }
}

package pagepool.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import pagepool.api.PoolParams;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;
import pagepool.api.testing.TestProvider;

/**
 * Pools a provider cannot serve, refused when they are created: each with a message that names the
 * value and what was expected, and nothing registered.
 */
class PoolCapabilityChecksTest {

    private final PoolRegistry pools = new PoolRegistry(10, 60_000);

    @AfterEach
    void closePools() {
        pools.close();
    }

    @Test
    void unreadableProviderNeedsAPoolThatAllowsUnreadableNetmem() {
        TestProvider devmem = new TestProvider("test", new ProviderCapabilities(false, 0, true, true));
        PoolParams p = PoolParams.builder().flags(PoolParams.DMA_MAP | PoolParams.DMA_SYNC_DEV).maxLen(4096).build();
        assertEquals("provider 'test' is unreadable (device memory) and the pool lacks ALLOW_UNREADABLE_NETMEM"
                + " (expected: a driver that handles unreadable netmem, e.g. with header split)",
                assertThrows(IllegalArgumentException.class, () -> pools.create(p, devmem)).getMessage());
        assertTrue(pools.pools().isEmpty(), "nothing registered");
    }

    @Test
    void providerThatNeedsDmaMapRefusesAPoolWithout() {
        TestProvider p = new TestProvider("test", new ProviderCapabilities(true, 10, true, false));
        assertEquals("flags: 0x0 lack DMA_MAP (expected: DMA_MAP, provider 'test' hands out DMA-mapped memory)",
                assertThrows(IllegalArgumentException.class,
                        () -> pools.create(PoolParams.builder().build(), p)).getMessage());
    }

    @Test
    void providerThatNeedsDmaSyncRefusesAPoolWithout() {
        TestProvider p = new TestProvider("test", new ProviderCapabilities(true, 10, true, true));
        assertEquals("flags: 0x1 lack DMA_SYNC_DEV (expected: DMA_SYNC_DEV, provider 'test' needs its pages synced"
                + " for the device)", assertThrows(IllegalArgumentException.class,
                        () -> pools.create(PoolParams.builder().flags(PoolParams.DMA_MAP).build(), p)).getMessage());
    }

    @Test
    void orderAboveTheProvidersIsRefused() {
        TestProvider p = new TestProvider("test", new ProviderCapabilities(true, 0, false, false));
        assertEquals("order: 1 (expected: 0..0 for provider 'test')", assertThrows(IllegalArgumentException.class,
                () -> pools.create(PoolParams.builder().order(1).build(), p)).getMessage());
    }

    @Test
    void providerRefusingInitIsReportedWithItsReason() {
        TestProvider p = new TestProvider("test");
        p.failing(TestProvider.Call.INIT, () -> new ProviderRefusedException("no binding for this queue"));
        assertEquals("provider 'test' refused pool (queue eth0/2): no binding for this queue",
                assertThrows(IllegalArgumentException.class,
                        () -> pools.create(PoolParams.builder().queue("eth0", 2).build(), p)).getMessage());
        assertTrue(pools.pools().isEmpty());
    }
}

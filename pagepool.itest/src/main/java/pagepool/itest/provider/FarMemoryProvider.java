package pagepool.itest.provider;

import org.osgi.service.component.annotations.Component;

import pagepool.api.provider.MemoryProvider;
import pagepool.api.testing.TestProvider;

/**
 * {@code farmem}: memory mapped at IOVAs above 2^52, beyond the simulated NIC's 48-bit DMA
 * mask, so starting a queue on it fails and the engine must roll back.
 */
@Component(service = MemoryProvider.class, property = MemoryProvider.NAME + "=farmem")
public final class FarMemoryProvider extends TestProvider {

    public FarMemoryProvider() {
        super("farmem");
        iovaBase(1L << 52);
    }
}

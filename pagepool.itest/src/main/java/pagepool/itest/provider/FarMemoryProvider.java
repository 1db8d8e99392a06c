package pagepool.itest.provider;

import org.osgi.service.component.annotations.Component;

import pagepool.api.provider.MemoryProvider;

/**
 * {@code farmem}: memory mapped at IOVAs above 2^52, beyond the simulated NIC's 48-bit DMA
 * mask, so starting a queue on it fails and the engine must roll back.
 */
@Component(service = MemoryProvider.class, property = MemoryProvider.NAME + "=farmem")
public final class FarMemoryProvider extends SlabProvider {

    public FarMemoryProvider() {
        super("farmem", 1L << 52);
    }
}

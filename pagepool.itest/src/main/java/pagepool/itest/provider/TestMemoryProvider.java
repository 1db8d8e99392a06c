package pagepool.itest.provider;

import org.osgi.service.component.annotations.Component;

import pagepool.api.provider.MemoryProvider;

/** A second readable provider, {@code testmem}. */
@Component(service = MemoryProvider.class, property = MemoryProvider.NAME + "=testmem")
public final class TestMemoryProvider extends SlabProvider {

    public TestMemoryProvider() {
        super("testmem", 0);
    }
}

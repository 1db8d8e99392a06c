package pagepool.itest.provider;

import org.osgi.service.component.annotations.Component;

import pagepool.api.provider.MemoryProvider;
import pagepool.api.testing.TestProvider;

/** A second readable provider, {@code testmem}. */
@Component(service = MemoryProvider.class, property = MemoryProvider.NAME + "=testmem")
public final class TestMemoryProvider extends TestProvider {

    public TestMemoryProvider() {
        super("testmem");
    }
}

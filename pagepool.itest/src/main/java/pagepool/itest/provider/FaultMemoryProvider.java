package pagepool.itest.provider;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.provider.MemoryProvider;

/**
 * {@code faultmem}: ordinary pages from a provider that misbehaves as its configuration
 * ({@code pagepool.itest.faultmem}) says, for the soak: every fault it throws says "injected".
 */
@Component(service = MemoryProvider.class, configurationPid = "pagepool.itest.faultmem",
        property = MemoryProvider.NAME + "=faultmem")
@Designate(ocd = FaultMemoryProvider.Config.class)
public final class FaultMemoryProvider extends SlabProvider {

    @ObjectClassDefinition(name = "faultmem", description = "A provider that injects faults")
    public @interface Config {
        @AttributeDefinition(description = "Allocation returns nothing once this many pages were handed out")
        long alloc_fail_after_pages() default Long.MAX_VALUE;

        @AttributeDefinition(description = "Probability that allocNetmems throws")
        double alloc_throw_probability() default 0;

        @AttributeDefinition(description = "init throws every n-th time (0: never)")
        int init_throw_every() default 0;

        @AttributeDefinition(description = "Every third init takes this long, in ms")
        long init_delay_millis() default 0;

        @AttributeDefinition(description = "Probability that releaseNetmem throws")
        double release_throw_probability() default 0;

        @AttributeDefinition(description = "Probability that destroy throws")
        double destroy_throw_probability() default 0;
    }

    private volatile Faults faults;

    @Activate
    public FaultMemoryProvider(Config config) {
        super("faultmem", 0);
        modified(config);
    }

    @Modified
    void modified(Config c) {
        faults = new Faults(c.alloc_fail_after_pages(), c.alloc_throw_probability(), c.init_throw_every(),
                c.init_delay_millis(), c.release_throw_probability(), c.destroy_throw_probability());
    }

    @Override
    protected Faults faults() {
        return faults;
    }
}

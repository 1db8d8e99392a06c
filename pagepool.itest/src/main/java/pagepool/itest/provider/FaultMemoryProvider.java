package pagepool.itest.provider;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.provider.MemoryProvider;
import pagepool.api.testing.TestProvider;

/**
 * {@code faultmem}: ordinary pages from a provider that misbehaves as its configuration
 * ({@code pagepool.itest.faultmem}) says, for the soak: every fault it throws says "injected".
 */
@Component(service = MemoryProvider.class, configurationPid = "pagepool.itest.faultmem",
        property = MemoryProvider.NAME + "=faultmem")
@Designate(ocd = FaultMemoryProvider.Config.class)
public final class FaultMemoryProvider extends TestProvider {

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

        @AttributeDefinition(description = "Probability that releaseNetmem takes 600 ms, over its budget")
        double release_slow_probability() default 0;

        @AttributeDefinition(description = "Probability that allocNetmems lies: returns -5 pages")
        double alloc_lie_probability() default 0;
    }

    /** Faults thrown because the configuration asked for them (the soak reads it). */
    public final AtomicLong injected = new AtomicLong();
    private final SplittableRandom random = new SplittableRandom(42);
    private final AtomicLong initCalls = new AtomicLong();

    @Activate
    public FaultMemoryProvider(Config config) {
        super("faultmem");
        modified(config);
    }

    private volatile double allocLie;

    @Modified
    void modified(Config c) {
        handOutLimit(c.alloc_fail_after_pages());
        allocLie = c.alloc_lie_probability();
        sometimes(Call.ALLOC, c.alloc_throw_probability(), "allocNetmems");
        double slow = c.release_slow_probability();
        double throwing = c.release_throw_probability();
        if (slow > 0 || throwing > 0) {
            failing(Call.RELEASE, () -> {
                if (chance(slow)) {
                    injected.incrementAndGet(); // slow, not thrown: the engine charges it for the time
                    try {
                        Thread.sleep(600);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return chance(throwing) ? injected("releaseNetmem") : null;
            });
        } else {
            healed(Call.RELEASE);
        }
        sometimes(Call.DESTROY, c.destroy_throw_probability(), "destroy");
        int every = c.init_throw_every();
        long delay = c.init_delay_millis();
        failing(Call.INIT, () -> {
            long n = initCalls.incrementAndGet();
            if (every > 0 && n % every == 0) {
                return injected("init");
            }
            if (delay > 0 && n % 3 == 0) {
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return null;
        });
    }

    @Override
    public int allocNetmems(pagepool.api.provider.PoolContext pool, pagepool.api.Netmem[] batch, int max) {
        double lie = allocLie;
        if (lie > 0 && chance(lie)) {
            injected.incrementAndGet();
            return -5; // a count no caller can use: the engine must not trust it
        }
        return super.allocNetmems(pool, batch, max);
    }

    private void sometimes(Call call, double probability, String name) {
        if (probability > 0) {
            failing(call, () -> chance(probability) ? injected(name) : null);
        } else {
            healed(call);
        }
    }

    private synchronized boolean chance(double p) {
        return random.nextDouble() < p;
    }

    private RuntimeException injected(String call) {
        injected.incrementAndGet();
        return new IllegalStateException("injected fault in faultmem." + call);
    }
}

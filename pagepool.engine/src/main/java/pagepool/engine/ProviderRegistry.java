package pagepool.engine;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The memory-provider services currently bound, keyed by service id, so a replacement bound
 * before its predecessor is unbound (bind-before-unbind) sits beside it until the unbind.
 */
final class ProviderRegistry {

    private final Map<Long, GuardedProvider> entries = new ConcurrentSkipListMap<>();

    void add(GuardedProvider p) {
        entries.put(p.serviceId, p);
    }

    GuardedProvider remove(long serviceId) {
        return entries.remove(serviceId);
    }

    boolean contains(GuardedProvider p) {
        return entries.get(p.serviceId) == p;
    }

    /** The best provider marked default that is not quarantined, or null. */
    GuardedProvider defaultProvider() {
        GuardedProvider best = null;
        for (GuardedProvider e : entries.values()) {
            if (e.isDefault && !e.quarantined() && (best == null || e.beats(best))) {
                best = e;
            }
        }
        return best;
    }

    /** Every provider bound, by service id. */
    List<GuardedProvider> entries() {
        return List.copyOf(entries.values());
    }

    /** The best provider with this name, whoever may use it; for messages and listings. Or null. */
    GuardedProvider byName(String name) {
        return byName(name, ANY_BUNDLE);
    }

    static final long ANY_BUNDLE = Long.MIN_VALUE;

    /**
     * The best provider with this name that {@code bundle} may bind to (a public one, or one
     * private to that bundle), one that is not quarantined if there is one, or null.
     */
    GuardedProvider byName(String name, long bundle) {
        GuardedProvider best = null;
        for (GuardedProvider e : entries.values()) {
            if (e.name.equals(name) && (bundle == ANY_BUNDLE || !e.isPrivate || e.bundleId == bundle)
                    && (best == null || better(e, best))) {
                best = e;
            }
        }
        return best;
    }

    /** The provider service registered with this very object by {@code bundle}, or null. */
    GuardedProvider byObject(Object provider, long bundle) {
        GuardedProvider best = null;
        for (GuardedProvider e : entries.values()) {
            if (e.provider == provider && e.bundleId == bundle && (best == null || better(e, best))) {
                best = e;
            }
        }
        return best;
    }

    /**
     * Why {@code p} may not take its name, or null. A public provider's name belongs to the first
     * bundle that registers one (it may register replacements under it); another bundle's public
     * provider of that name is refused, so a name cannot be borrowed by ranking higher. Private
     * names are the bundle's own business: nobody else can bind to them.
     */
    String claimConflict(GuardedProvider p) {
        if (p.isPrivate) {
            return null;
        }
        for (GuardedProvider e : entries.values()) {
            if (!e.isPrivate && e.name.equals(p.name) && e.bundleId != p.bundleId) {
                return "memory provider '" + p.name + "' of bundle " + p.bundleId + " is not taken: the name belongs to"
                        + " a provider of bundle " + e.bundleId + " (service " + e.serviceId + ") (expected: a name no"
                        + " other bundle's provider has)";
            }
        }
        return null;
    }

    private static boolean better(GuardedProvider a, GuardedProvider b) {
        return a.quarantined() != b.quarantined() ? !a.quarantined() : a.beats(b);
    }
}

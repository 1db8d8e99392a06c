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

    /** The best provider with this name, one that is not quarantined if there is one, or null. */
    GuardedProvider byName(String name) {
        GuardedProvider best = null;
        for (GuardedProvider e : entries.values()) {
            if (e.name.equals(name) && (best == null || better(e, best))) {
                best = e;
            }
        }
        return best;
    }

    private static boolean better(GuardedProvider a, GuardedProvider b) {
        return a.quarantined() != b.quarantined() ? !a.quarantined() : a.beats(b);
    }
}

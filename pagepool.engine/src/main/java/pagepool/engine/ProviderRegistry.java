package pagepool.engine;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

import org.osgi.framework.Constants;

import pagepool.api.provider.MemoryProvider;

/**
 * The memory-provider services currently bound, keyed by service id, so a replacement bound
 * before its predecessor is unbound (bind-before-unbind) sits beside it until the unbind.
 */
final class ProviderRegistry {

    record Entry(MemoryProvider provider, String name, boolean isDefault, int ranking, long serviceId) {
        /** Higher ranking first, then the older service, as the framework orders services. */
        boolean beats(Entry o) {
            return ranking != o.ranking ? ranking > o.ranking : serviceId < o.serviceId;
        }
    }

    private final Map<Long, Entry> entries = new ConcurrentSkipListMap<>();

    void add(MemoryProvider provider, Map<String, Object> props) {
        Entry e = new Entry(provider, String.valueOf(props.getOrDefault(MemoryProvider.NAME, provider.name())),
                Boolean.parseBoolean(String.valueOf(props.get(MemoryProvider.DEFAULT))),
                props.get(Constants.SERVICE_RANKING) instanceof Integer r ? r : 0,
                ((Number) props.get(Constants.SERVICE_ID)).longValue());
        entries.put(e.serviceId(), e);
    }

    void remove(Map<String, Object> props) {
        entries.remove(((Number) props.get(Constants.SERVICE_ID)).longValue());
    }

    /** The best provider marked default, else the best one named {@code heap}, else null. */
    MemoryProvider defaultProvider() {
        Entry best = null;
        for (Entry e : entries.values()) {
            if (e.isDefault() && (best == null || e.beats(best))) {
                best = e;
            }
        }
        if (best == null) {
            best = byName("heap");
        }
        return best == null ? null : best.provider();
    }

    /** Every provider bound, by service id. */
    java.util.List<Entry> entries() {
        return java.util.List.copyOf(entries.values());
    }

    /** The best provider with this name, or null. */
    Entry byName(String name) {
        Entry best = null;
        for (Entry e : entries.values()) {
            if (e.name().equals(name) && (best == null || e.beats(best))) {
                best = e;
            }
        }
        return best;
    }
}

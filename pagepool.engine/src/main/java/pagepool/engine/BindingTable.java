package pagepool.engine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;

/**
 * The desired bindings of queues to providers, and which binding holds each queue. Changed only
 * on the reconciler thread; read from anywhere through an immutable snapshot of the claims.
 *
 * <p>A queue is held by one binding at a time, first come, first served: a binding that holds its
 * queues keeps them; one that finds a queue held (two configuration files naming one queue) waits,
 * listed as failed with the holder's name, and takes its queues when they are all free. A binding
 * either holds all its queues or none.
 */
final class BindingTable {

    /** A desired binding. Fields other than state, message and holding are fixed. */
    static final class Binding {
        final long id;
        final String device;
        final List<Integer> queues;
        final String provider;
        /** The provider service object it was made with, or null for a binding by name. */
        final pagepool.api.provider.MemoryProvider object;
        final String owner;
        /** The bundle that made it, or -1 for configuration. */
        final long ownerBundle;
        final String origin;
        /** A configuration that was refused: listed, binds nothing. */
        final boolean rejected;
        volatile BindingInfo.State state = BindingInfo.State.PENDING;
        /** Never empty while not APPLIED: until the engine first looks, it says so. */
        volatile String message = "not applied yet: its queues restart onto its provider when the engine gets to it";
        /** Whether it holds its queues. */
        boolean holding;

        Binding(long id, String device, List<Integer> queues, String provider,
                pagepool.api.provider.MemoryProvider object, String owner, long ownerBundle, String origin,
                boolean rejected) {
            this.id = id;
            this.device = device;
            this.queues = List.copyOf(queues);
            this.provider = provider;
            this.object = object;
            this.owner = owner;
            this.ownerBundle = ownerBundle;
            this.origin = origin == null ? "" : origin;
            this.rejected = rejected;
        }

        BindingInfo info() {
            return new BindingInfo(id, device, queues, provider, owner, origin, state, message);
        }

        void set(BindingInfo.State state, String message) {
            this.state = state;
            this.message = message;
        }

        /**
         * The provider it asks for: the service made with its object, else the best one of its
         * name that its owner may use; null if none is present.
         */
        GuardedProvider resolve(ProviderRegistry providers) {
            return object != null ? providers.byObject(object, ownerBundle) : providers.byName(provider, ownerBundle);
        }

        boolean covers(QueueId q) {
            return device.equals(q.device()) && queues.contains(q.index());
        }

        /** Who made it and how it is undone, for messages to others. */
        String who() {
            return owner + (origin.isEmpty() ? "" : ", " + origin);
        }
    }

    private final Map<Long, Binding> bindings = new ConcurrentSkipListMap<>();
    private final AtomicLong ids = new AtomicLong();
    private volatile Map<QueueId, Binding> claims = Map.of();

    long nextId() {
        return ids.incrementAndGet();
    }

    /** Adds a binding, or replaces the one with its id (keeping its hold if it still fits). */
    void put(Binding b) {
        Binding old = bindings.put(b.id, b);
        b.holding = old != null && old.holding && !b.rejected;
        recompute();
    }

    Binding remove(long id) {
        Binding b = bindings.remove(id);
        if (b != null) {
            recompute();
        }
        return b;
    }

    Binding get(long id) {
        return bindings.get(id);
    }

    List<Binding> ofOwner(String owner) {
        return bindings.values().stream().filter(b -> b.owner.equals(owner)).toList();
    }

    Collection<Binding> all() {
        return bindings.values();
    }

    /** The binding holding a queue, or null. */
    Binding holder(QueueId q) {
        return claims.get(q);
    }

    /** The holder of the first of {@code b}'s queues that another binding holds, or null. */
    Binding blocker(Binding b) {
        for (int q : b.queues) {
            Binding h = claims.get(new QueueId(b.device, q));
            if (h != null && h != b) {
                return h;
            }
        }
        return null;
    }

    /** Holders keep their queues (oldest first); then waiting bindings take free ones, oldest first. */
    private void recompute() {
        List<Binding> order = new ArrayList<>(bindings.values());
        order.sort(Comparator.comparing((Binding b) -> !b.holding).thenComparingLong(b -> b.id));
        Map<QueueId, Binding> next = new HashMap<>();
        for (Binding b : order) {
            b.holding = false;
            if (b.rejected || b.queues.stream().anyMatch(q -> next.containsKey(new QueueId(b.device, q)))) {
                continue;
            }
            b.queues.forEach(q -> next.put(new QueueId(b.device, q), b));
            b.holding = true;
        }
        claims = Map.copyOf(next);
    }
}

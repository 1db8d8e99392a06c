package pagepool.engine;

import java.util.List;

import pagepool.api.Checks;
import pagepool.api.QueueId;
import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.QueueList;
import pagepool.engine.BindingTable.Binding;

/**
 * What a binding must satisfy: checked when it is asked for (one clear error, nothing changed),
 * and derived again as its state whenever devices, providers or queues change. Engine thread.
 */
final class BindingChecks {

    private final BindingTable table;
    private final Devices devices;
    private final ProviderRegistry providers;

    BindingChecks(BindingTable table, Devices devices, ProviderRegistry providers) {
        this.table = table;
        this.devices = devices;
        this.providers = providers;
    }

    /** A list of queue indexes: there, not empty, no null in it. */
    static void indexes(List<Integer> queueList) {
        if (queueList == null || queueList.isEmpty()) {
            throw Checks.invalid("queues", queueList, "at least one queue index");
        }
        for (Integer q : queueList) {
            if (q == null) {
                throw Checks.invalid("queues", queueList, "queue indexes, none of them null");
            }
        }
    }

    /**
     * @param ownerBundle the bundle asking, or -1
     * @param strict true for operators (an unknown device, a held queue or a private provider is
     *        an error); false for configuration, which may name a device that is not there yet
     *        or a queue another binding holds (the binding waits for them)
     * @throws IllegalArgumentException naming the value and what was expected
     */
    void checkNew(String device, List<Integer> queueList, String provider, long ownerBundle, boolean strict) {
        Checks.notBlank("provider", provider, "a provider name");
        Device dev = checkQueues(device, queueList, strict);
        GuardedProvider p = providers.byName(provider, ownerBundle);
        if (p == null && strict) {
            GuardedProvider other = providers.byName(provider);
            if (other != null && other.isPrivate) {
                throw new IllegalArgumentException(privateMessage(other));
            }
        }
        checkMemory(device, dev, p);
    }

    /** As {@link #checkNew} for a binding to a provider service the caller registered: always strict. */
    void checkNew(String device, List<Integer> queueList, GuardedProvider p) {
        checkMemory(device, checkQueues(device, queueList, true), p);
    }

    /** The device (null if absent and not strict) after checking the queues are its and free. */
    private Device checkQueues(String device, List<Integer> queueList, boolean strict) {
        Checks.notBlank("device", device, "a device name");
        indexes(queueList);
        if (queueList.stream().distinct().count() != queueList.size()) {
            throw Checks.invalid("queues", queueList, "each queue once");
        }
        Device dev = strict ? devices.require(device) : devices.get(device);
        for (int q : queueList) {
            if (dev != null) {
                dev.checkQueue(q);
            } else {
                Checks.inRange("queue", q, 0, QueueList.MAX_QUEUES - 1);
            }
            Binding other = table.holder(new QueueId(device, q));
            if (other != null && strict) {
                throw new IllegalArgumentException("queue " + device + "/" + q + " is already bound to provider '"
                        + other.provider + "' by binding " + other.id + " (" + other.who() + ")"
                        + " (expected: unbind it first)");
            }
        }
        return dev;
    }

    private static void checkMemory(String device, Device dev, GuardedProvider p) {
        String why = p == null || dev == null ? null : memoryMismatch(p, dev);
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
    }

    /**
     * Why {@code p} cannot serve the queues of {@code b} on {@code d}, or null when it can: the one
     * rule the reconciler (which queue runs on what), the binding states and the checks of a new
     * binding all use.
     */
    static String cannotServe(GuardedProvider p, Binding b, Device d) {
        if (p.quarantined()) {
            return "provider '" + p.name + "' is " + p.quarantine;
        }
        if (p.isPrivate && p.bundleId != b.ownerBundle) {
            return privateMessage(p);
        }
        return memoryMismatch(p, d);
    }

    /** Device memory needs a device that splits headers: the CPU reads every header. */
    private static String memoryMismatch(GuardedProvider p, Device d) {
        return p.caps.readable() || d.headerSplit ? null : "provider '" + p.name + "' is unreadable (device memory) and "
                + d.name + " has header split off (expected: a device with header split on)";
    }

    /**
     * @param owner who asks, or null to skip the check (tests, benchmarks)
     * @throws IllegalArgumentException when someone else made the binding
     */
    static void checkOwner(Binding b, String owner, String what) {
        if (owner != null && !owner.equals(b.owner)) {
            String undo = !b.owner.startsWith("config:") ? ""
                    : b.origin.startsWith("file ") ? "; delete its file to unbind" : "; delete its configuration to unbind";
            throw new IllegalArgumentException(what + " is bound by " + b.who() + " (expected: only its owner changes"
                    + " it" + undo + ")");
        }
    }

    static String privateMessage(GuardedProvider p) {
        return "provider '" + p.name + "' is private to the bundle that registered it (bundle " + p.bundleId
                + ") (expected: a provider any bundle may bind; bind this one through its owner, e.g. pp:dmabuf_bind)";
    }

    /** Derives each binding's state from its queues and the providers present. */
    void refreshStates() {
        for (Binding b : table.all()) {
            if (!b.rejected) {
                refresh(b);
            }
        }
    }

    private void refresh(Binding b) {
        if (!b.holding) {
            Binding h = table.blocker(b);
            b.set(BindingInfo.State.FAILED, h == null ? "waiting for its queues"
                    : "queue " + b.device + "/" + h.queues.stream().filter(b.queues::contains).findFirst().orElse(-1)
                            + " is held by binding " + h.id + " (" + h.who() + "); this one applies when it goes");
            return;
        }
        Device dev = devices.get(b.device);
        if (dev == null) {
            b.set(BindingInfo.State.PENDING, "device '" + b.device + "' is not present");
            return;
        }
        if (!dev.enabled) {
            b.set(BindingInfo.State.PENDING, "device '" + b.device + "' is down; it applies when it comes up");
            return;
        }
        GuardedProvider p = b.resolve(providers);
        GuardedProvider named = p != null || b.object != null ? p : providers.byName(b.provider);
        String bad = b.queues.stream().filter(q -> q >= dev.queueCount).map(q -> "queue " + q
                + " is out of range (expected: 0.." + (dev.queueCount - 1) + ")").findFirst().orElse(null);
        if (bad != null) {
            b.set(BindingInfo.State.FAILED, bad);
        } else if (named != null && named.isPrivate && named.bundleId != b.ownerBundle) {
            b.set(BindingInfo.State.FAILED, privateMessage(named));
        } else if (p == null) {
            b.set(BindingInfo.State.PENDING, "provider '" + b.provider + "' is not present" + (b.object == null ? ""
                    : ": the service it was bound with is gone"));
        } else if (cannotServe(p, b, dev) != null) {
            b.set(BindingInfo.State.FAILED, cannotServe(p, b, dev));
        } else {
            String failure = b.queues.stream().map(q -> devices.queue(new QueueId(b.device, q)))
                    .filter(qs -> qs != null && qs.current != p).map(qs -> qs.id + ": " + qs.message)
                    .findFirst().orElse(null);
            b.set(failure == null ? BindingInfo.State.APPLIED : BindingInfo.State.FAILED, failure == null ? "" : failure);
        }
    }
}

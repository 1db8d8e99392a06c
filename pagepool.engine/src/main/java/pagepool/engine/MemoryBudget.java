package pagepool.engine;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import pagepool.api.Checks;

/**
 * The engine-wide memory budget: what device configurations commit (their rings' pages), reserved
 * by their drivers before anything is built, so one that does not fit is refused in one line
 * instead of taking the host's memory (32 queues of 16,384 buffers are 2 GiB). Keyed by the
 * calling bundle and the driver's key.
 */
final class MemoryBudget {

    /** 1 GiB: 256 queues of 1,024 4 KiB buffers; raise it for more. */
    static final long DEFAULT_BYTES = 1L << 30;

    private final Map<String, Long> reserved = new ConcurrentHashMap<>();
    private volatile long budget = DEFAULT_BYTES;

    void budget(long bytes) {
        Checks.atLeast("memory.budget.bytes", bytes, 0);
        budget = bytes;
    }

    long budget() {
        return budget;
    }

    /** @see pagepool.api.PagePoolFactory#reserve */
    synchronized void reserve(long bundle, String key, long bytes) {
        Checks.notBlank("key", key, "what the reservation is for, e.g. a configuration PID");
        if (bytes < 0) {
            throw Checks.invalid("bytes", bytes, "0 or more");
        }
        String k = bundle + "#" + key;
        if (bytes == 0) {
            reserved.remove(k);
            return;
        }
        long others = 0;
        for (Map.Entry<String, Long> e : reserved.entrySet()) {
            if (!e.getKey().equals(k)) {
                others += e.getValue();
            }
        }
        long b = budget;
        if (bytes > b - others) {
            throw Checks.invalid("memory", bytes + " bytes for the rings of " + key, "at most " + Math.max(0, b - others)
                    + ", what is left of memory.budget.bytes=" + b + " with " + others + " reserved by other devices;"
                    + " fewer queues or smaller rings, or a larger memory.budget.bytes in pagepool.engine.cfg");
        }
        reserved.put(k, bytes);
    }

    /** Everything a bundle reserved goes: it stopped. */
    void release(long bundle) {
        reserved.keySet().removeIf(k -> k.startsWith(bundle + "#"));
    }

    long reserved() {
        return reserved.values().stream().mapToLong(Long::longValue).sum();
    }
}

package pagepool.kit.driver;

import java.util.ArrayList;
import java.util.List;

import pagepool.api.Checks;

/**
 * Checks a driver's settings in one place, its settings' constructor, and names every bad value
 * at once: the component reads a configuration's types only and hands the values over, so a
 * range is written once and a refusal lists each problem ({@code "ring.size: 1000 (expected: a
 * power of 2 in 16..16384); rx.queues: 0 (expected: 1..1024)"}).
 */
public final class SettingsCheck {

    private final List<String> problems = new ArrayList<>();

    public SettingsCheck range(String key, long value, long min, long max) {
        if (value < min || value > max) {
            problem(key, value, max == Long.MAX_VALUE ? ">= " + min : min + ".." + max);
        }
        return this;
    }

    public SettingsCheck range(String key, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            problem(key, value, min + ".." + max);
        }
        return this;
    }

    public SettingsCheck powerOfTwo(String key, long value, long min, long max) {
        if (value < min || value > max || Long.bitCount(value) != 1) {
            problem(key, value, "a power of 2 in " + min + ".." + max);
        }
        return this;
    }

    public SettingsCheck deviceName(String key, String value) {
        try {
            Checks.deviceName(key, value);
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        return this;
    }

    /** A rule between values: unless {@code ok}, {@code "key: value (expected: expected)"}. */
    public SettingsCheck that(boolean ok, String key, Object value, String expected) {
        if (!ok) {
            problem(key, value, expected);
        }
        return this;
    }

    private void problem(String key, Object value, String expected) {
        problems.add(Checks.message(key, value, expected));
    }

    /** Whether every check so far passed: later checks that build on earlier values may run. */
    public boolean ok() {
        return problems.isEmpty();
    }

    /** @throws IllegalArgumentException naming every bad value, in order, when any was */
    public void done() {
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
    }
}

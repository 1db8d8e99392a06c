package pagepool.api;

/**
 * The checks pagepool makes of what it is given, with one shape of message for every bad value:
 * {@code "name: value (expected: what)"}, e.g. {@code "ring.size: 1000 (expected: a power of 2 in
 * 16..16384)"}. Providers and drivers may use them for their own settings, so an operator reads
 * every refusal the same way. Each check returns the value it passed, and builds its message only
 * when it fails.
 */
public final class Checks {

    private Checks() {
    }

    /** What is said of a bad value: {@code "name: value (expected: expected)"}. */
    public static String message(String name, Object value, String expected) {
        return name + ": " + value + " (expected: " + expected + ")";
    }

    /** The error for a bad value, saying {@link #message}. */
    public static IllegalArgumentException invalid(String name, Object value, String expected) {
        return new IllegalArgumentException(message(name, value, expected));
    }

    /** @throws IllegalArgumentException unless {@code min <= value <= max} */
    public static int inRange(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw invalid(name, value, min + ".." + max);
        }
        return value;
    }

    /** @throws IllegalArgumentException unless {@code min <= value <= max} */
    public static long inRange(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw invalid(name, value, min + ".." + max);
        }
        return value;
    }

    /** @throws IllegalArgumentException unless {@code value >= min} */
    public static int atLeast(String name, int value, int min) {
        if (value < min) {
            throw invalid(name, value, ">= " + min);
        }
        return value;
    }

    /** @throws IllegalArgumentException unless {@code value >= min} */
    public static long atLeast(String name, long value, long min) {
        if (value < min) {
            throw invalid(name, value, ">= " + min);
        }
        return value;
    }

    /** @throws IllegalArgumentException unless {@code value} is a power of 2 */
    public static int powerOfTwo(String name, int value) {
        if (value <= 0 || Integer.bitCount(value) != 1) {
            throw invalid(name, value, "a power of 2");
        }
        return value;
    }

    /** @throws IllegalArgumentException when {@code value} is null or blank, saying what was expected */
    public static String notBlank(String name, String value, String expected) {
        if (value == null || value.isBlank()) {
            throw invalid(name, "'" + value + "'", expected);
        }
        return value;
    }
}

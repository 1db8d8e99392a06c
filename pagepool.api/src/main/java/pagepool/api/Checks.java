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

    /**
     * An integer written in text, strictly: ASCII digits, which "_" may group ({@code 100_000}),
     * after a "-" only for a value other than zero; no "+", no spaces inside, no other script's
     * digits (Java's own parser takes {@code ١} for 1), nothing beyond a long. Surrounding spaces
     * are ignored. Every number pagepool reads from text goes through here, so each surface
     * accepts the same spellings.
     *
     * @throws IllegalArgumentException {@code "name: 'text' (expected: expected)"} otherwise
     */
    public static long parseLong(String name, String text, String expected) {
        String t = text == null ? "" : text.strip();
        int i = t.startsWith("-") ? 1 : 0;
        boolean digits = t.length() > i && t.length() - i <= 26;
        boolean nonZero = false;
        for (int j = i; digits && j < t.length(); j++) {
            char c = t.charAt(j);
            if (c == '_') {
                // only between two digits
                digits = j > i && j + 1 < t.length() && t.charAt(j - 1) != '_' && t.charAt(j + 1) != '_';
            } else {
                digits = c >= '0' && c <= '9';
                nonZero |= c != '0';
            }
        }
        if (digits && (i == 0 || nonZero)) {
            try {
                return Long.parseLong(t.replace("_", ""));
            } catch (NumberFormatException e) {
                // beyond a long: said below
            }
        }
        throw invalid(name, "'" + text + "'", expected);
    }

    /** As {@link #parseLong}, for an int. */
    public static int parseInt(String name, String text, String expected) {
        long v = parseLong(name, text, expected);
        if (v != (int) v) {
            throw invalid(name, "'" + text + "'", expected);
        }
        return (int) v;
    }

    /** Most characters of a device name: Linux's IFNAMSIZ (16) less its terminating zero. */
    public static final int MAX_DEVICE_NAME = 15;
    /** Most characters of a provider name. */
    public static final int MAX_PROVIDER_NAME = 32;

    /**
     * A network device's name, as Linux takes an interface name: 1..{@value #MAX_DEVICE_NAME}
     * characters of {@code A-Z a-z 0-9 . _ -}, not {@code .} or {@code ..}.
     *
     * @throws IllegalArgumentException naming the value (its printable form) and the syntax
     */
    public static String deviceName(String what, String name) {
        return name(what, name, MAX_DEVICE_NAME, "a device name of 1.." + MAX_DEVICE_NAME
                + " characters of A-Z a-z 0-9 . _ -, as Linux names an interface");
    }

    /** A memory provider's name: 1..{@value #MAX_PROVIDER_NAME} characters of {@code A-Z a-z 0-9 . _ -}. */
    public static String providerName(String what, String name) {
        return name(what, name, MAX_PROVIDER_NAME, "a provider name of 1.." + MAX_PROVIDER_NAME
                + " characters of A-Z a-z 0-9 . _ -");
    }

    private static String name(String what, String name, int max, String expected) {
        boolean ok = name != null && !name.isEmpty() && name.length() <= max && !name.equals(".") && !name.equals("..");
        for (int i = 0; ok && i < name.length(); i++) {
            char c = name.charAt(i);
            ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-';
        }
        if (!ok) {
            throw invalid(what, printable(name), expected);
        }
        return name;
    }

    /**
     * A value as it may be shown on one line: quoted, control and format characters as {@code ?},
     * at most 40 characters and then its length.
     */
    public static String printable(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("'");
        for (int i = 0; i < value.length() && i < 40; i++) {
            char c = value.charAt(i);
            b.append(Character.isISOControl(c) || Character.getType(c) == Character.FORMAT ? '?' : c);
        }
        b.append('\'');
        if (value.length() > 40) {
            b.append("... (").append(value.length()).append(" characters)");
        }
        return b.toString();
    }

    /** @throws IllegalArgumentException when {@code value} is null or blank, saying what was expected */
    public static String notBlank(String name, String value, String expected) {
        if (value == null || value.isBlank()) {
            throw invalid(name, "'" + value + "'", expected);
        }
        return value;
    }
}

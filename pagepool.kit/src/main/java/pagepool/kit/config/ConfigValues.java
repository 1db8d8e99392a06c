package pagepool.kit.config;

import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import pagepool.api.Checks;

/**
 * Reads a component's configuration through its typed {@code Config} annotation and checks each
 * value, collecting one message per bad value in the project's form
 * ({@code "rx.queues: 0 (expected: 1..4096)"}). A value Declarative Services cannot convert
 * (text where a number belongs) is reported with the text as written instead of failing the
 * component. The component then applies the values only if {@link #ok()}; otherwise it keeps its
 * last good configuration and reports {@link #message()}.
 *
 * <pre>{@code
 * ConfigValues v = new ConfigValues(props);
 * int queues = v.integer("rx.queues", config::rx_queues, 1, 4096);
 * if (!v.ok()) refuse(v.message());
 * }</pre>
 */
public final class ConfigValues {

    /** The property FileInstall sets on a configuration it read from a file (a file URL). */
    public static final String FILE = "felix.fileinstall.filename";

    private final Map<String, ?> props;
    private final List<String> problems = new ArrayList<>();

    /** @param props the component's properties, as Declarative Services passes them */
    public ConfigValues(Map<String, ?> props) {
        this.props = props == null ? Map.of() : props;
    }

    /** Where the configuration comes from: its file name, else its PID, else {@code defaults}. */
    public String source() {
        return sourceOf(props);
    }

    /** As {@link #source()}, for any configuration's properties. */
    public static String sourceOf(Map<String, ?> props) {
        Object file = props.get(FILE);
        if (file != null) {
            String f = String.valueOf(file);
            return f.substring(f.lastIndexOf('/') + 1);
        }
        Object pid = props.get("service.pid");
        return pid != null ? String.valueOf(pid) : "defaults";
    }

    /**
     * A configuration type's defaults, as an instance of it: what a component runs with when its
     * first configuration is refused.
     */
    public static <A extends Annotation> A defaults(Class<A> type) {
        Object proxy = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (self, m, args) -> {
            return switch (m.getName()) {
                case "annotationType" -> type;
                case "toString" -> type.getSimpleName() + " defaults";
                case "hashCode" -> System.identityHashCode(self);
                case "equals" -> self == args[0];
                default -> m.getDefaultValue();
            };
        });
        return type.cast(proxy);
    }

    /**
     * A configuration as an instance of its type, read from {@code props} the way DS reads it
     * (key {@code a_b} is property {@code a.b}; a missing key is its default). A value that is
     * not of the method's type throws from that method, which the reading calls of this class
     * report as the key's problem.
     */
    public static <A extends Annotation> A typed(Class<A> type, Map<String, ?> props) {
        Object proxy = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (self, m, args) -> {
            return switch (m.getName()) {
                case "annotationType" -> type;
                case "toString" -> type.getSimpleName() + " " + props;
                case "hashCode" -> System.identityHashCode(self);
                case "equals" -> self == args[0];
                default -> {
                    Object raw = props.get(key(m));
                    yield raw == null ? m.getDefaultValue() : convert(raw, m.getReturnType(), key(m));
                }
            };
        });
        return type.cast(proxy);
    }

    /** The property a configuration type's method reads, as DS names it. */
    private static String key(Method m) {
        // DS's mapping (OSGi Compendium 112.8.2.2): "$_$" is '-', "$$" is '$', another '$' goes, "__" is '_', '_' is '.'.
        String n = m.getName().replace("$_$", "\u0001").replace("$$", "\u0002").replace("$", "");
        return n.replace("__", "\u0000").replace('_', '.').replace('\u0000', '_').replace('\u0001', '-')
                .replace('\u0002', '$');
    }

    private static Object convert(Object raw, Class<?> to, String key) {
        String text = String.valueOf(raw).strip();
        try {
            if (to == String.class) {
                return String.valueOf(raw);
            } else if (to == boolean.class) {
                return raw instanceof Boolean b ? b : Boolean.parseBoolean(text);
            } else if (to == int.class) {
                return raw instanceof Number n ? Math.toIntExact(n.longValue()) : Integer.parseInt(text);
            } else if (to == long.class) {
                return raw instanceof Number n ? n.longValue() : Long.parseLong(text);
            } else if (to == double.class) {
                return raw instanceof Number n ? n.doubleValue() : Double.parseDouble(text);
            }
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException(key + ": '" + raw + "' is not a " + to.getSimpleName(), e);
        }
        throw new IllegalArgumentException(key + ": a configuration method of type " + to.getName()
                + " (expected: String, boolean, int, long or double)");
    }

    /** An int, of any value: its range is checked where the settings are built. */
    public int integer(String key, IntSupplier typed) {
        return integer(key, typed, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /** A long, of any value: its range is checked where the settings are built. */
    public long integer(String key, LongSupplier typed) {
        return integer(key, typed, Long.MIN_VALUE, Long.MAX_VALUE);
    }

    public int integer(String key, IntSupplier typed, int min, int max) {
        return (int) integer(key, () -> typed.getAsInt(), (long) min, (long) max);
    }

    public long integer(String key, LongSupplier typed, long min, long max) {
        // Written as text (a .cfg file), the number is read as every number is (Checks.parseLong):
        // DS's own conversion would take "+5" or another script's digits.
        if (props.get(key) instanceof String raw) {
            try {
                Checks.parseLong(key, raw, anInteger(min, max));
            } catch (IllegalArgumentException e) {
                return bad(key, anInteger(min, max), min);
            }
        }
        long v;
        try {
            v = typed.getAsLong();
        } catch (RuntimeException e) {
            return bad(key, anInteger(min, max), min);
        }
        if (v < min || v > max) {
            problem(key, v, range(min, max));
            return min;
        }
        return v;
    }

    /** A number, of any value: its range is checked where the settings are built. */
    public double decimal(String key, DoubleSupplier typed) {
        try {
            return typed.getAsDouble();
        } catch (RuntimeException e) {
            return bad(key, "a number", 0.0);
        }
    }

    public double decimal(String key, DoubleSupplier typed, double min, double max) {
        double v;
        try {
            v = typed.getAsDouble();
        } catch (RuntimeException e) {
            return bad(key, "a number in " + min + ".." + max, min);
        }
        if (!(v >= min && v <= max)) {
            problem(key, v, min + ".." + max);
            return min;
        }
        return v;
    }

    /** A boolean written {@code true} or {@code false}; DS would read anything else as false. */
    public boolean bool(String key, BooleanSupplier typed) {
        Object raw = props.get(key);
        if (raw instanceof String s && !s.strip().equalsIgnoreCase("true") && !s.strip().equalsIgnoreCase("false")) {
            problem(key, "'" + s + "'", "true or false");
            return false;
        }
        try {
            return typed.getAsBoolean();
        } catch (RuntimeException e) {
            return bad(key, "true or false", false);
        }
    }

    /** A device name ({@link Checks#deviceName}); its printable form in the refusal. */
    public String deviceName(String key, Supplier<String> typed) {
        String v = text(key, typed);
        if (!v.isEmpty()) {
            try {
                Checks.deviceName(key, v);
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
                return "";
            }
        }
        return v;
    }

    /** Text that is not blank. */
    public String text(String key, Supplier<String> typed) {
        String v;
        try {
            v = typed.get();
        } catch (RuntimeException e) {
            return bad(key, "text", "");
        }
        if (v == null || v.isBlank()) {
            problem(key, "'" + (v == null ? "" : v) + "'", "a value that is not blank");
            return "";
        }
        return v.strip();
    }

    /** One of a few words, case-insensitive; returns the option's value. */
    public <T> T choice(String key, Supplier<String> typed, Map<String, T> options, T otherwise) {
        String v;
        try {
            v = typed.get();
        } catch (RuntimeException e) {
            v = String.valueOf(props.get(key));
        }
        T t = v == null ? null : options.get(v.strip().toLowerCase(Locale.ROOT));
        if (t == null) {
            problem(key, "'" + v + "'", "one of " + String.join(", ", new TreeSet<>(options.keySet())));
            return otherwise;
        }
        return t;
    }

    /** A problem the caller found, e.g. between two values: {@code "key: value (expected: expected)"}. */
    public void problem(String key, Object value, String expected) {
        problems.add(Checks.message(key, value, expected));
    }

    /** A problem in words already, e.g. the message of a check that threw. */
    public void problem(String message) {
        problems.add(message);
    }

    /**
     * Refuses keys the configuration type does not declare (a misspelt key would otherwise be
     * ignored and its default used without a word). Framework keys are not checked, nor the
     * component's own properties, given as {@code alsoKnown}.
     */
    public void noUnknownKeys(Class<? extends Annotation> config, String... alsoKnown) {
        Set<String> known = new TreeSet<>();
        Set<String> own = Set.of(alsoKnown);
        for (Method m : config.getDeclaredMethods()) {
            known.add(key(m));
        }
        for (String key : new TreeSet<>(props.keySet())) {
            if (!known.contains(key) && !own.contains(key) && !isFrameworkKey(key)) {
                problem(key, "unknown key", "one of " + String.join(", ", known));
            }
        }
    }

    private static boolean isFrameworkKey(String key) {
        return key.startsWith("service.") || key.startsWith("component.") || key.startsWith("felix.")
                || key.startsWith("osgi.") || key.startsWith(".") || key.equals("objectClass");
    }

    public boolean ok() {
        return problems.isEmpty();
    }

    public List<String> problems() {
        return List.copyOf(problems);
    }

    /** Every problem, on one line. */
    public String message() {
        return String.join("; ", problems);
    }

    private <T> T bad(String key, String expected, T result) {
        problem(key, "'" + props.get(key) + "'", expected);
        return result;
    }

    private static String anInteger(long min, long max) {
        boolean any = min == Integer.MIN_VALUE && max == Integer.MAX_VALUE || min == Long.MIN_VALUE && max == Long.MAX_VALUE;
        return any ? "an integer" : "an integer in " + range(min, max);
    }

    private static String range(long min, long max) {
        return max == Long.MAX_VALUE ? ">= " + min : min + ".." + max;
    }
}

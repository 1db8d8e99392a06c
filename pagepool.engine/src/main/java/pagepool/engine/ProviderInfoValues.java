package pagepool.engine;

import java.util.Map;
import java.util.TreeMap;

/**
 * A provider's description of a pool made into plain data: at most {@value #MAX_ENTRIES}
 * entries; keys and strings printable and at most {@value #MAX_TEXT} characters (control
 * characters become {@code ?}); numbers only of the JDK's own types, finite; anything else named
 * by its class instead of printed.
 */
final class ProviderInfoValues {

    static final int MAX_ENTRIES = 64;
    static final int MAX_TEXT = 200;

    private ProviderInfoValues() {
    }

    static Map<String, Object> of(Map<String, Object> described) {
        Map<String, Object> out = new TreeMap<>();
        for (Map.Entry<String, Object> e : described.entrySet()) {
            if (out.size() == MAX_ENTRIES) {
                out.put("(more)", "the provider described more than " + MAX_ENTRIES + " values");
                break;
            }
            Object k = e.getKey();
            String key = k instanceof String s ? text(s) : "(a " + (k == null ? "null" : k.getClass().getName())
                    + " key)";
            out.put(key, value(e.getValue()));
        }
        return Map.copyOf(out);
    }

    private static Object value(Object v) {
        if (v == null) {
            return "(null)";
        }
        Class<?> c = v.getClass();
        if (c == Long.class || c == Integer.class || c == Short.class || c == Byte.class) {
            return ((Number) v).longValue();
        }
        if (c == Double.class || c == Float.class) {
            double d = ((Number) v).doubleValue();
            return Double.isFinite(d) ? d : String.valueOf(d);
        }
        if (c == Boolean.class) {
            return v;
        }
        if (c == String.class) {
            return text((String) v);
        }
        return "(a " + c.getName() + ")";
    }

    private static String text(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_TEXT + 3));
        for (int i = 0; i < s.length() && b.length() < MAX_TEXT; i++) {
            char ch = s.charAt(i);
            b.append(Character.isISOControl(ch) || Character.getType(ch) == Character.FORMAT ? '?' : ch);
        }
        if (s.length() > MAX_TEXT) {
            b.append("...");
        }
        return b.toString();
    }
}

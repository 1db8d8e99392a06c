package pagepool.api.testing;

import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;

/**
 * A component's typed configuration made from properties the way Declarative Services makes it
 * ({@code rx_queues} read from {@code rx.queues}, text converted to the member's type, and a
 * conversion that fails thrown when the member is read), for unit tests of components without a
 * framework. Shared with other modules as a test jar.
 */
public final class Configs {

    private Configs() {
    }

    public static <A extends Annotation> A of(Class<A> type, Map<String, ?> props) {
        Object proxy = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (self, m, args) -> {
            return switch (m.getName()) {
                case "annotationType" -> type;
                case "toString" -> type.getSimpleName() + props;
                case "hashCode" -> System.identityHashCode(self);
                case "equals" -> self == args[0];
                default -> value(m, props);
            };
        });
        return type.cast(proxy);
    }

    private static Object value(Method m, Map<String, ?> props) {
        String key = m.getName().replace("__", "\u0000").replace('_', '.').replace('\u0000', '_');
        Object v = props.get(key);
        if (v == null) {
            return m.getDefaultValue();
        }
        Class<?> t = m.getReturnType();
        if (t.isInstance(v) || (t.isPrimitive() && !(v instanceof String))) {
            return v;
        }
        String s = String.valueOf(v).strip();
        try {
            if (t == int.class) {
                return Integer.parseInt(s);
            }
            if (t == long.class) {
                return Long.parseLong(s);
            }
            if (t == double.class) {
                return Double.parseDouble(s);
            }
            if (t == boolean.class) {
                return Boolean.parseBoolean(s);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cannot convert '" + s + "' to " + t, e);
        }
        return s;
    }
}

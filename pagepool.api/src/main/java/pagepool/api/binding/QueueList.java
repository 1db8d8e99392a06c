package pagepool.api.binding;

import java.util.ArrayList;
import java.util.List;

/**
 * The queue-list syntax shared by configuration files and the shell: {@code 1}, {@code 1,2},
 * {@code 0-3}, {@code 0-1,3}.
 */
public final class QueueList {

    private QueueList() {
    }

    /**
     * @throws IllegalArgumentException naming the text and the expected form
     */
    public static List<Integer> parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw bad(spec);
        }
        List<Integer> out = new ArrayList<>();
        for (String part : spec.split(",")) {
            String p = part.trim();
            try {
                int dash = p.indexOf('-', 1);
                int from = Integer.parseInt(dash < 0 ? p : p.substring(0, dash).trim());
                int to = dash < 0 ? from : Integer.parseInt(p.substring(dash + 1).trim());
                if (to < from) {
                    throw bad(spec);
                }
                for (int i = from; i <= to; i++) {
                    out.add(i);
                }
            } catch (NumberFormatException e) {
                throw bad(spec);
            }
        }
        return out;
    }

    private static IllegalArgumentException bad(String spec) {
        return new IllegalArgumentException("queues: '" + spec + "' (expected: a list like 1,2 or a range like 0-3)");
    }
}

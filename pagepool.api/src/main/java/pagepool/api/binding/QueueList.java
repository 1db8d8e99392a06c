package pagepool.api.binding;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * The queue-list syntax shared by configuration files and the shell: {@code 1}, {@code 1,2},
 * {@code 0-3}, {@code 0-1,3}. Indexes are 0..{@value #MAX_QUEUES}-1, each at most once.
 */
public final class QueueList {

    /** The most RX queues a device may have: queue indexes are below this. */
    public static final int MAX_QUEUES = 4096;

    private QueueList() {
    }

    /**
     * Reads a queue list, in the order written. Ranges are checked before they are expanded, so
     * no text makes a list longer than {@value #MAX_QUEUES}.
     *
     * @throws IllegalArgumentException naming the text and the expected form
     */
    public static List<Integer> parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw bad(spec, "");
        }
        BitSet seen = new BitSet(MAX_QUEUES);
        List<Integer> out = new ArrayList<>();
        for (String part : spec.split(",", -1)) {
            String p = part.strip();
            int dash = p.indexOf('-', 1);
            int from = index(spec, dash < 0 ? p : p.substring(0, dash).strip());
            int to = dash < 0 ? from : index(spec, p.substring(dash + 1).strip());
            if (to < from) {
                throw bad(spec, "range " + p + " runs backwards; ");
            }
            for (int i = from; i <= to; i++) {
                if (seen.get(i)) {
                    throw bad(spec, "queue " + i + " is listed twice; ");
                }
                seen.set(i);
                out.add(i);
            }
        }
        return out;
    }

    private static int index(String spec, String text) {
        String digits = text.replaceFirst("^0+(?=.)", "");
        if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw bad(spec, "");
        }
        if (digits.length() > 4 || Integer.parseInt(digits) >= MAX_QUEUES) {
            throw bad(spec, "queue " + digits + " is beyond the largest index " + (MAX_QUEUES - 1) + "; ");
        }
        return Integer.parseInt(digits);
    }

    private static IllegalArgumentException bad(String spec, String why) {
        return new IllegalArgumentException("queues: '" + spec + "' (" + why
                + "expected: a list like 1,2 or a range like 0-3 of indexes 0.." + (MAX_QUEUES - 1) + ")");
    }
}

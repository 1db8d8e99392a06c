package pagepool.tck;

import java.util.List;
import java.util.Locale;

/**
 * What the kit found: each promise with its verdict and, when it failed, the values that broke
 * it. {@link #toString()} is the report a vendor reads.
 *
 * @param subject what was checked, e.g. {@code provider 'heap'}
 */
public record ConformanceReport(String subject, List<Result> results) {

    public enum Verdict {
        PASS, FAIL, SKIP
    }

    /**
     * @param promise the promise's name, e.g. {@code alloc-at-most-max}
     * @param text what it promises
     * @param detail why it failed or was skipped, with the values; empty when it passed
     */
    public record Result(String promise, String text, Verdict verdict, String detail) {
    }

    public ConformanceReport {
        results = List.copyOf(results);
    }

    /** Whether every promise held (skipped ones do not count against it). */
    public boolean passed() {
        return results.stream().noneMatch(r -> r.verdict() == Verdict.FAIL);
    }

    /** The names of the promises that failed. */
    public List<String> failed() {
        return results.stream().filter(r -> r.verdict() == Verdict.FAIL).map(Result::promise).toList();
    }

    public Result result(String promise) {
        return results.stream().filter(r -> r.promise().equals(promise)).findFirst().orElseThrow(
                () -> new IllegalArgumentException("promise: '" + promise + "' (expected: one of "
                        + results.stream().map(Result::promise).toList() + ")"));
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        long fail = results.stream().filter(r -> r.verdict() == Verdict.FAIL).count();
        long skip = results.stream().filter(r -> r.verdict() == Verdict.SKIP).count();
        b.append(String.format(Locale.ROOT, "pagepool conformance: %s: %d promises, %d kept, %d broken, %d skipped%n",
                subject, results.size(), results.size() - fail - skip, fail, skip));
        for (Result r : results) {
            b.append(String.format(Locale.ROOT, "  %-4s %-28s %s%n", r.verdict(), r.promise(), r.text()));
            if (!r.detail().isEmpty()) {
                b.append("       ").append(r.detail()).append(System.lineSeparator());
            }
        }
        return b.toString();
    }
}

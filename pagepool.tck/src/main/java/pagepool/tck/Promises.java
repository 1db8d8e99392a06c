package pagepool.tck;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.DynamicTest;

import pagepool.tck.ConformanceReport.Result;
import pagepool.tck.ConformanceReport.Verdict;

/**
 * How the kits run a promise: in a thread of its own with a deadline (a hung plugin call fails
 * that promise and no other), its verdict a {@link Result}; and every promise as a JUnit 5 test.
 */
final class Promises {

    /** A promise's check on a subject: null when it held, else what broke it; {@link Skip} when it does not apply. */
    interface Check<S> {
        String run(S subject) throws Exception;
    }

    record Promise<S>(String name, String text, Check<S> check) {
    }

    /** The promise does not apply to this plugin; the message says why. */
    static final class Skip extends Exception {
        private static final long serialVersionUID = 1L;

        Skip(String why) {
            super(why, null, false, false);
        }
    }

    private Promises() {
    }

    /**
     * Runs {@code p} on the subject {@code open} makes on the promise's thread (closed after it
     * when it is AutoCloseable).
     *
     * @param hung what the report says of a promise that did not answer in time
     */
    static <S> Result run(Promise<S> p, Callable<S> open, long deadlineMillis, String hung) {
        AtomicReference<Result> out = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                S subject = open.call();
                try {
                    String broken = p.check().run(subject);
                    out.set(new Result(p.name(), p.text(), broken == null ? Verdict.PASS : Verdict.FAIL,
                            broken == null ? "" : broken));
                } finally {
                    if (subject instanceof AutoCloseable c) {
                        c.close();
                    }
                }
            } catch (Skip s) {
                out.set(new Result(p.name(), p.text(), Verdict.SKIP, s.getMessage()));
            } catch (Throwable e) {
                out.set(new Result(p.name(), p.text(), Verdict.FAIL, "threw " + e));
            }
        }, "pagepool-tck-" + p.name());
        t.setDaemon(true);
        t.start();
        try {
            t.join(deadlineMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Result r = out.get();
        return r != null ? r : new Result(p.name(), p.text(), Verdict.FAIL, "no answer within " + deadlineMillis
                + " ms (" + hung + ")");
    }

    /** Each promise as a dynamic test named after it: skipped, passed, or failed with the detail. */
    static <S> Stream<DynamicTest> tests(List<Promise<S>> promises, Function<Promise<S>, Result> run) {
        return promises.stream().map(p -> DynamicTest.dynamicTest(p.name() + ": " + p.text(), () -> {
            Result r = run.apply(p);
            org.junit.jupiter.api.Assumptions.assumeTrue(r.verdict() != Verdict.SKIP, r.detail());
            Assertions.assertEquals(Verdict.PASS, r.verdict(), r.promise() + ": " + r.detail());
        }));
    }
}

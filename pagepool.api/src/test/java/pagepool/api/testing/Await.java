package pagepool.api.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * How tests wait: for a condition, up to a deadline, checking it every few milliseconds, so they
 * hold on a busy machine without sleeping for a guessed time.
 */
public final class Await {

    private Await() {
    }

    /** Waits up to 20 s for {@code condition}. */
    public static void await(String what, BooleanSupplier condition) throws InterruptedException {
        await(what, condition, Duration.ofSeconds(20));
    }

    /** @throws AssertionError naming {@code what} when {@code condition} is still false after {@code timeout} */
    public static void await(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(5);
        }
    }
}

package pagepool.api.config;

import java.time.Instant;
import java.util.Objects;

/**
 * Something given to the runtime that it refused: a configuration (a {@code .cfg} file in the
 * load folder, or any Config Admin configuration) or a jar that is not a bundle. The bundle that
 * refused it registers one as a service while the refusal stands and unregisters it when the
 * input is fixed or removed (whiteboard), so a refusal is reported once and listed until then.
 *
 * @param source where the input came from: the file name, or the configuration PID
 * @param subject what it was meant for, e.g. {@code device sim0}, {@code engine}, {@code provider heap}
 * @param message one line naming the value and what was expected, and what happens instead
 * @param since when it was refused
 */
public record ConfigProblem(String source, String subject, String message, Instant since) {

    public ConfigProblem {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(since, "since");
    }

    @Override
    public String toString() {
        return source + ": " + subject + ": " + message;
    }
}

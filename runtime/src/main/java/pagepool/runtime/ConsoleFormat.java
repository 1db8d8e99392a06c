package pagepool.runtime;

import java.util.Locale;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * What the runtime prints on the console: one line per event, its level and message, nothing
 * else. Traces and logger names go to the log file ({@code log/pagepool.log}), where a record
 * with a trace is said to be.
 */
public final class ConsoleFormat extends Formatter {

    @Override
    public String format(LogRecord r) {
        String level = r.getLevel().intValue() >= Level.SEVERE.intValue() ? "error"
                : r.getLevel().intValue() >= Level.WARNING.intValue() ? "warning"
                : r.getLevel().getName().toLowerCase(Locale.ROOT);
        String message = formatMessage(r).replace('\n', ' ');
        return "pagepool " + level + ": " + message + (r.getThrown() != null ? " (details in log/pagepool.log)" : "")
                + System.lineSeparator();
    }
}

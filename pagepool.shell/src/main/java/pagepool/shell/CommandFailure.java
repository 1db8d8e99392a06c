package pagepool.shell;

/**
 * A command's refusal. The shell prints an exception with {@code toString()}; this one prints its
 * message alone, so the user reads one plain line, not a Java class name.
 */
final class CommandFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    CommandFailure(String message) {
        super(message, null, false, false);
    }

    @Override
    public String toString() {
        return getMessage();
    }
}

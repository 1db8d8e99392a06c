package pagepool.api.queue;

/** A queue-management operation failed; the message says which queue and why. */
public final class QueueOperationException extends Exception {

    private static final long serialVersionUID = 1L;

    public QueueOperationException(String message) {
        super(message);
    }

    public QueueOperationException(String message, Throwable cause) {
        super(message, cause);
    }
}

package pagepool.api;

/**
 * Thrown when code tries to read or write the bytes of a netmem the CPU cannot reach, such as
 * device memory. Such memory is only reachable by the device that owns it.
 */
public final class UnreadableNetmemException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public UnreadableNetmemException(String message) {
        super(message);
    }
}

package pagepool.api;

/**
 * Thrown when a netmem is given back that the pool does not have out: a second release of the
 * same reference, a release to another pool, or a netmem no page pool handed out. The pool's
 * cache and ring are left untouched, and the pool counts the event in its {@link PoolInfo}.
 */
public final class BadReleaseException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public BadReleaseException(String message) {
        super(message);
    }
}

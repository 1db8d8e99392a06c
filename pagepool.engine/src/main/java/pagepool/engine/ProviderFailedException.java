package pagepool.engine;

/** A provider threw where it should have answered; the fault is counted already. */
final class ProviderFailedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    ProviderFailedException(String message) {
        super(message);
    }
}

package pagepool.api.provider;

/** A provider's reason for not serving a pool ({@code init} returning an error). */
public final class ProviderRefusedException extends Exception {

    private static final long serialVersionUID = 1L;

    public ProviderRefusedException(String reason) {
        super(reason);
    }
}

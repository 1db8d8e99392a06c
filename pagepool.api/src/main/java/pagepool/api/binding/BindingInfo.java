package pagepool.api.binding;

import java.util.List;

/**
 * A binding of queues to a provider.
 *
 * @param id binding id
 * @param device device name
 * @param queues queue indexes
 * @param provider provider name
 * @param owner who made it and alone may change it: {@code config:<pid>} or
 *        {@code bundle:<symbolic name>#<bundle id>}
 * @param origin where it comes from, in words an operator can act on: the configuration file, or
 *        what the owning bundle said (e.g. {@code dma-buf binding 2 (pp:dmabuf_unbind 2)})
 * @param state whether it applies
 * @param message why it is pending or failed; empty when applied
 */
public record BindingInfo(long id, String device, List<Integer> queues, String provider, String owner, String origin,
        State state, String message) {

    public BindingInfo {
        queues = List.copyOf(queues);
        origin = origin == null ? "" : origin;
    }

    public enum State {
        /** Its queues run on its provider. */
        APPLIED,
        /** Its provider or device is not present; it applies when they are. */
        PENDING,
        /**
         * It does not apply: its configuration is malformed, a queue is held by an older binding
         * (it applies when that one goes), or restarting onto its provider failed or the provider
         * faulted (its queues run on other memory). The message says which.
         */
        FAILED
    }
}

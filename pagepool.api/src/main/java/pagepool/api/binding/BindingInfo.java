package pagepool.api.binding;

import java.util.List;

/**
 * A binding of queues to a provider.
 *
 * @param id binding id
 * @param device device name
 * @param queues queue indexes
 * @param provider provider name
 * @param owner who made it: {@code config:<pid>} or {@code bundle:<symbolic name>}
 * @param state whether it applies
 * @param message why it is pending or failed; empty when applied
 */
public record BindingInfo(long id, String device, List<Integer> queues, String provider, String owner, State state,
        String message) {

    public BindingInfo {
        queues = List.copyOf(queues);
    }

    public enum State {
        /** Its queues run on its provider. */
        APPLIED,
        /** Its provider or device is not present; it applies when they are. */
        PENDING,
        /** Restarting its queues failed; they run on their previous memory. */
        FAILED
    }
}

package pagepool.api.binding;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

import pagepool.api.PoolInfo;

/**
 * Binds RX queues to memory providers. Queues without a binding use the default provider. A
 * binding whose provider is not present is pending and applies when the provider appears; when a
 * provider leaves, its queues return to the default provider. Every change restarts exactly the
 * queues it affects.
 */
@ProviderType
public interface PoolBindings {

    /**
     * Binds queues of a device to a provider and waits until they run on it (or the binding is
     * pending on a missing provider).
     *
     * @return the binding; its {@link BindingInfo#state()} says whether it applied
     * @throws IllegalArgumentException for an unknown device, a queue out of range, a queue
     *         already bound, or an unreadable provider on a device without header split;
     *         nothing changes then
     */
    BindingInfo bind(String device, List<Integer> queues, String provider);

    /**
     * Removes the binding of each listed queue (the whole binding that covers it) and waits
     * until its queues are back on the default provider.
     *
     * @return the bindings removed
     * @throws IllegalArgumentException for an unknown device, a queue out of range or a queue
     *         without a binding; nothing changes then
     */
    List<BindingInfo> unbind(String device, List<Integer> queues);

    /** Removes a binding by id; false if there is none. */
    boolean unbind(long bindingId);

    List<BindingInfo> bindings();

    List<DeviceInfo> devices();

    List<QueueInfo> queues();

    List<ProviderInfo> providers();

    List<PoolInfo> pools();
}

package pagepool.api.binding;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

import pagepool.api.PoolInfo;

/**
 * Binds RX queues to memory providers. Queues without a binding use the default provider. A
 * binding whose provider is not present is pending and applies when the provider appears; when a
 * provider leaves, its queues return to the default provider. Every change restarts exactly the
 * queues it affects.
 *
 * <p>Bundle-scoped: the bindings a bundle makes are its own. Only their owner changes or removes
 * them, and they go when the owner stops using the service. Bindings from configuration files
 * belong to their file: delete the file to remove one.
 */
@ProviderType
public interface PoolBindings {

    /**
     * Binds queues of a device to a provider and waits until they run on it (or the binding is
     * pending on a missing provider).
     *
     * @return the binding; its {@link BindingInfo#state()} says whether it applied
     * @throws IllegalArgumentException for an unknown device, a queue out of range, a queue
     *         already bound, an unreadable provider on a device without header split, or a
     *         provider private to another bundle; nothing changes then
     */
    BindingInfo bind(String device, List<Integer> queues, String provider);

    /**
     * As {@link #bind(String, List, String)}, with the words operators see as the binding's
     * origin (e.g. how to undo it), since only the caller may remove it.
     */
    BindingInfo bind(String device, List<Integer> queues, String provider, String origin);

    /**
     * Binds queues to the provider service the caller registered with this object, and no other:
     * the binding never looks up a name, so another bundle's provider of the same name, however
     * ranked, cannot take its queues. A dma-buf binding is made this way. When that service goes,
     * the queues return to the default provider and the binding stays pending for good.
     *
     * @param provider a {@link pagepool.api.provider.MemoryProvider} the caller registered as a
     *        service (private or not), present in the engine
     * @param origin the words operators see as the binding's origin
     * @return the binding; its {@link BindingInfo#state()} says whether it applied
     * @throws IllegalArgumentException for an object that is not such a service, and as
     *         {@link #bind(String, List, String)}; nothing changes then
     * @since 1.3
     */
    BindingInfo bind(String device, List<Integer> queues, pagepool.api.provider.MemoryProvider provider,
            String origin);

    /**
     * Removes the binding of each listed queue (the whole binding that covers it) and waits
     * until its queues are back on the default provider.
     *
     * @return the bindings removed
     * @throws IllegalArgumentException for an unknown device, a queue out of range, a queue
     *         without a binding, or a binding another owner made (the message names the owner
     *         and how it is undone); nothing changes then
     */
    List<BindingInfo> unbind(String device, List<Integer> queues);

    /**
     * Removes one of the caller's bindings by id.
     *
     * @return false if there is none
     * @throws IllegalArgumentException for a binding another owner made; nothing changes then
     */
    boolean unbind(long bindingId);

    /**
     * Restarts one queue onto the memory it should run on, even if it runs on it already (netdevsim's
     * {@code queue_reset}): new pools and a new ring, the old ones freed. On a device that is
     * administratively down nothing runs: the queue starts on new memory when the device comes up.
     *
     * @return the queue as it is after the restart
     * @throws IllegalArgumentException for an unknown device or a queue out of range
     */
    QueueInfo restartQueue(String device, int queue);

    /**
     * Lifts the quarantine of a provider and forgets its faults and the restarts that failed onto
     * it, so queues bound to it are put on it again.
     *
     * @return the provider as it is now
     * @throws IllegalArgumentException for an unknown provider
     */
    ProviderInfo resetProvider(String provider);

    List<BindingInfo> bindings();

    /** How long queue restarts took since the engine started, as a histogram. */
    RestartLatency restartLatency();

    List<DeviceInfo> devices();

    List<QueueInfo> queues();

    List<ProviderInfo> providers();

    List<PoolInfo> pools();

    /**
     * Tells {@code listener} of every change from now on, in order, on a thread of the engine's
     * that it must not block for long; what it throws is logged and the changes go on.
     *
     * @return the subscription; close it to stop
     */
    Change.Subscription subscribe(java.util.function.Consumer<Change> listener);
}

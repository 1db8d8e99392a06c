package pagepool.api.control;

import java.util.List;
import java.util.function.Consumer;

import org.osgi.annotation.versioning.ProviderType;

import pagepool.api.binding.BindingInfo;
import pagepool.api.binding.Change;
import pagepool.api.binding.ProviderInfo;
import pagepool.api.binding.QueueInfo;
import pagepool.api.binding.RestartLatency;
import pagepool.api.config.ConfigProblem;
import pagepool.api.datagram.DatagramSender.SendReport;
import pagepool.api.devmem.DevmemBindingInfo;
import pagepool.api.devmem.DmaBufInfo;
import pagepool.api.queue.QueueDebug.ResetMode;

/**
 * What an operator can read and do, after {@code ynl netdev}: one service, used by the shell,
 * the HTTP API and any other client, so the checks and the refusals are the same everywhere.
 *
 * <p>Every operation checks its input before it changes anything. A refusal is an
 * {@link IllegalArgumentException} (the input is wrong: the message names the value and what
 * was expected, e.g. {@code queue: '9' (expected: 0..3 on sim0)}) or an
 * {@link IllegalStateException} (the input is fine but cannot be served now, e.g. no
 * device-memory provider is installed). Either way nothing changed. Bindings made here belong to
 * the control plane (owner {@code bundle:pagepool.control#<id>}); operators share them.
 */
@ProviderType
public interface Control {

    /** Devices: the engine's view, the driver's details and carrier, and refused device configurations. */
    List<Device> devices();

    /** RX queues and the provider behind each ({@code ynl queue-get}). */
    List<QueueInfo> queues();

    /** Page pools with their counters ({@code ynl page-pool-get}, {@code page-pool-stats-get}). */
    List<Pool> pools();

    List<ProviderInfo> providers();

    List<BindingInfo> bindings();

    /** How long queue restarts took since start, as a histogram. */
    RestartLatency restartLatency();

    /**
     * What the runtime refused and still refuses: configurations and jars, and bindings that
     * cannot apply ({@link BindingInfo.State#FAILED}), oldest first.
     */
    List<ConfigProblem> problems();

    /**
     * The drivers' per-queue counters ({@code ethtool -S}).
     *
     * @param device a device, or null for all
     * @throws IllegalArgumentException for an unknown device
     */
    List<QueueCounters> devstats(String device);

    /** Device-memory buffers and their bindings. */
    DmaBufList dmabufs();

    /**
     * Binds queues to a provider that is present and waits until they run on it.
     *
     * @param origin how the operator asked, e.g. {@code pp:bind} or {@code HTTP}: shown as the binding's origin
     * @throws IllegalArgumentException for an unknown device, a queue out of range or already
     *         bound, or a provider that is not present (a typo must not pass as a binding that
     *         waits; a configuration file may name a provider that comes later)
     */
    BindingInfo bind(String device, List<Integer> queues, String provider, String origin);

    /**
     * Removes the bindings of the listed queues; they go back to the default provider.
     *
     * @return the bindings removed
     * @throws IllegalArgumentException for a queue without a binding, or one bound by someone
     *         else (the message says how that one is undone)
     */
    List<BindingInfo> unbind(String device, List<Integer> queues);

    /**
     * Sets a device administratively up or down ({@code ip link set}) and waits until the
     * engine applied it: down stops its queues and frees their rings.
     *
     * @return the device as it is then
     * @throws IllegalStateException when the engine did not apply it within 10 s
     */
    Device link(String device, boolean up);

    /**
     * Turns the carrier of a device, or of every device, on or off: traffic flows or stops.
     *
     * @param device a device, or null for all
     * @return the devices changed
     */
    List<String> traffic(String device, boolean on);

    /**
     * Restarts a queue onto new memory (netdevsim's {@code queue_reset}).
     *
     * @param mode how the driver rebuilds it, or null to keep the device's mode
     * @throws IllegalArgumentException for a mode on a device without debugging aids
     */
    QueueInfo queueReset(String device, int queue, ResetMode mode);

    /**
     * Holds one more page of the queue's pool outside it, or gives every held page back
     * (netdevsim's {@code pp_hold}).
     *
     * @return the pages held now
     * @throws IllegalStateException when holding and the queue has no page to hold
     */
    HeldPages pageHold(String device, int queue, boolean hold);

    /** Lifts a provider's quarantine and forgets its faults. */
    ProviderInfo providerReset(String provider);

    /** A device-memory buffer of {@code bytes} (a multiple of the page size). */
    DmaBufInfo dmabufCreate(long bytes);

    /** Binds a buffer to RX queues of a header-split device. */
    DevmemBindingInfo dmabufBind(int buffer, String device, List<Integer> queues);

    /** Unbinds a buffer; its queues go back to the default provider. */
    void dmabufUnbind(long dmabufBinding);

    /** Destroys a buffer, unbinding it first; its memory is freed once its chunks are back. */
    void dmabufDestroy(int buffer);

    /**
     * Sends verifiable UDP datagrams to a device (the address in its details) or to
     * {@code host:port}.
     *
     * @throws IllegalStateException when no datagram sender is installed
     */
    SendReport udpSend(String target, int size, long count, long rate);

    /** As {@link pagepool.api.binding.PoolBindings#subscribe}: every change from now on, in order. */
    Change.Subscription subscribe(Consumer<Change> listener);

    /**
     * The changes kept in the log (the last {@value #CHANGES_KEPT}) after {@code afterId}, oldest
     * first; 0 for all of them.
     */
    List<ChangeEvent> changes(long afterId);

    /**
     * Follows the change log: first the changes kept after {@code afterId}, then each new one, in
     * order, none twice, on a thread of the engine's that the listener must not block.
     */
    Change.Subscription follow(long afterId, Consumer<ChangeEvent> listener);

    /** Changes the log keeps for {@link #changes} and {@link #follow}. */
    int CHANGES_KEPT = 1000;

    /**
     * The traffic samples kept (each second, the last {@value #SAMPLES_KEPT}) after {@code afterSeq},
     * oldest first; 0 for all of them. A sample holds at most {@value #SAMPLED_QUEUES} queues.
     */
    List<RateSample> history(long afterSeq);

    /** Samples {@link #history} keeps: five minutes and a half. */
    int SAMPLES_KEPT = 330;

    /** Queues a sample holds, the first by device and index: what a page can draw. */
    int SAMPLED_QUEUES = 128;

    /**
     * The JSON of what this service returns (a record, a list of records, a change, a report), in
     * the one mapping every client gets: the shell's {@code --json}, the HTTP API and its event
     * stream. Field names are the record components in kebab-case; times are ISO-8601 strings; a
     * queue is {@code "device/index"}; enums are their names.
     *
     * @throws IllegalArgumentException for a value of no type of this API
     */
    String json(Object value);
}

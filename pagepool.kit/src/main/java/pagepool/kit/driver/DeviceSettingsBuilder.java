package pagepool.kit.driver;

/**
 * What every driver's settings builder holds: the device's name, its RX queues, the buffers in
 * each queue's ring and whether it starts administratively up. A driver's builder extends it with
 * its own values; its settings record checks them all ({@link SettingsCheck}).
 *
 * @param <B> the driver's builder
 */
public abstract class DeviceSettingsBuilder<B extends DeviceSettingsBuilder<B>> {

    protected final String name;
    protected int rxQueues;
    protected int ringSize;
    protected boolean up = true;

    protected DeviceSettingsBuilder(String name, int rxQueues, int ringSize) {
        this.name = name;
        this.rxQueues = rxQueues;
        this.ringSize = ringSize;
    }

    public final B rxQueues(int n) {
        this.rxQueues = n;
        return self();
    }

    public final B ringSize(int n) {
        this.ringSize = n;
        return self();
    }

    /** Administratively up from the start ({@code ip link set up}). */
    public final B up(boolean on) {
        this.up = on;
        return self();
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }
}

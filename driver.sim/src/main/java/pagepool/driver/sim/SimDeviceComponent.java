package pagepool.driver.sim;

import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.PagePoolFactory;
import pagepool.api.queue.NetDevice;
import pagepool.api.queue.QueueMemory;
import pagepool.api.queue.QueueOperationException;

/**
 * One simulated device per factory configuration of {@value #PID} (the runtime ships
 * {@code pagepool.sim.device-sim0.cfg}), registered as a {@link NetDevice}.
 */
@Component(service = NetDevice.class, configurationPid = SimDeviceComponent.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = SimDeviceComponent.Config.class, factory = true)
public final class SimDeviceComponent implements NetDevice {

    static final String PID = "pagepool.sim.device";

    @ObjectClassDefinition(name = "pagepool simulated NIC", description = "A simulated multi-queue NIC under traffic")
    public @interface Config {
        @AttributeDefinition(description = "Device name")
        String name() default "sim0";

        @AttributeDefinition(description = "RX queues")
        int rx_queues() default 4;

        @AttributeDefinition(description = "RX descriptors per queue (power of 2)")
        int ring_size() default 1024;

        @AttributeDefinition(description = "Split headers (host memory) from payload (queue memory)")
        boolean header_split() default false;

        @AttributeDefinition(description = "Smallest packet in bytes, header included")
        int packet_size_min() default 1500;

        @AttributeDefinition(description = "Largest packet in bytes, header included")
        int packet_size_max() default 1500;

        @AttributeDefinition(description = "Offered packets per second per queue; 0 for unbounded")
        long rate_pps() default 10_000;

        @AttributeDefinition(description = "Share of packets read by socket threads (released off NAPI)")
        double socket_fraction() default 0.5;

        @AttributeDefinition(description = "How long socket threads hold pages, in microseconds")
        long hold_micros() default 200;

        @AttributeDefinition(description = "Socket threads")
        int consumer_threads() default 1;

        @AttributeDefinition(description = "Bits of DMA address the NIC can reach")
        int dma_mask_bits() default 48;

        @AttributeDefinition(description = "Link up (traffic flowing) from the start")
        boolean traffic() default true;

        @AttributeDefinition(description = "IOTLB entries per queue")
        int iotlb_entries() default 64;

        @AttributeDefinition(description = "IOTLB associativity")
        int iotlb_ways() default 4;
    }

    private final SimDevice device;

    @Activate
    public SimDeviceComponent(Config config, @Reference PagePoolFactory pools) {
        this.device = new SimDevice(settings(config), pools).open();
    }

    static SimSettings settings(Config c) {
        return new SimSettings(c.name(), c.rx_queues(), c.ring_size(), c.header_split(), c.packet_size_min(),
                c.packet_size_max(), c.rate_pps(), c.socket_fraction(), c.hold_micros(), c.consumer_threads(),
                c.dma_mask_bits(), c.traffic(), c.iotlb_entries(), c.iotlb_ways());
    }

    /** Only the link state can change without rebuilding the device. */
    @Modified
    void modified(Config config) {
        device.setCarrier(config.traffic());
    }

    @Deactivate
    void deactivate() {
        device.close();
    }

    @Override
    public String name() {
        return device.name();
    }

    @Override
    public int rxQueueCount() {
        return device.rxQueueCount();
    }

    @Override
    public boolean headerSplit() {
        return device.headerSplit();
    }

    @Override
    public QueueMemory memAlloc(int queue) throws QueueOperationException {
        return device.memAlloc(queue);
    }

    @Override
    public QueueMemory stop(int queue) throws QueueOperationException {
        return device.stop(queue);
    }

    @Override
    public void start(int queue, QueueMemory memory) throws QueueOperationException {
        device.start(queue, memory);
    }

    @Override
    public void memFree(QueueMemory memory) {
        device.memFree(memory);
    }

    @Override
    public Map<String, Long> queueStats(int queue) {
        return device.queueStats(queue);
    }

    @Override
    public boolean carrier() {
        return device.carrier();
    }

    @Override
    public void setCarrier(boolean up) {
        device.setCarrier(up);
    }
}

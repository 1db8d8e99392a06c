package pagepool.driver.xdp;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import pagepool.api.PagePool;
import pagepool.api.PagePoolFactory;
import pagepool.api.PoolParams;
import pagepool.api.datagram.DatagramConsumer;
import pagepool.kit.driver.DatagramDelivery;
import pagepool.kit.driver.DatagramDeviceComponent;
import pagepool.kit.driver.RxDevice;
import pagepool.kit.linux.Libc;
import pagepool.kit.linux.WakeFd;

/**
 * An AF_XDP device: the first {@code rxQueues} RX queues of a Linux interface, each an AF_XDP
 * socket whose UMEM is the queue's page pool ({@link XdpQueue}), and the XDP program that steers
 * the device's UDP ports to them ({@link XdpProgram}), attached through a BPF link: closing the
 * device (or the process ending) detaches it. Everything the kernel can refuse is tried when the
 * device is built: the interface, its queue count, the maps and program (privileges), the
 * attachment (XDP support, another program), and whether zero-copy is offered; the device says
 * which mode it runs in {@link #details()}.
 */
public final class XdpDevice extends RxDevice<XdpQueue, XdpMem>
        implements DatagramDeviceComponent.Receiver {

    private static final System.Logger LOG = System.getLogger(XdpDevice.class.getName());
    /** {@code __NR_membarrier} on x86-64, and {@code MEMBARRIER_CMD_GLOBAL}: an RCU grace period. */
    private static final long SYS_MEMBARRIER = 324;
    private static final int MEMBARRIER_CMD_GLOBAL = 1;

    private final XdpSettings settings;
    private final PagePoolFactory pools;
    private final Arena arena = Arena.ofShared();
    /** For the calls any thread makes: guarded by itself (its scratch memory is shared). */
    private final Libc libc = new Libc(arena);
    private final Bpf bpf = new Bpf(arena, libc);
    private final MemorySegment lookup = arena.allocate(16, 8);
    private final int ifindex;
    private final int interfaceQueues;
    private int xskMap = -1;
    private int unboundMap = -1;
    private int program = -1;
    private int link = -1;
    private final String zeroCopy;
    private final int bindFlags;
    private final DatagramDelivery.Slot consumer;
    private boolean closed;
    /** The interface's own drop count when the device was built. */
    private final long interfaceDropsAtStart;

    /**
     * Attaches the program and starts every queue's thread, with every queue stopped.
     *
     * @throws IllegalArgumentException for an interface that is not there or has fewer queues
     * @throws IllegalStateException naming what the kernel refused and why
     */
    public XdpDevice(XdpSettings settings, PagePoolFactory pools) {
        super(settings.name(), XdpMem.class, settings.up(), true);
        this.settings = settings;
        this.pools = pools;
        this.consumer = new DatagramDelivery.Slot(settings.name());
        try {
            this.ifindex = libc.ifIndex(settings.ifname());
            if (ifindex == 0) {
                throw new IllegalArgumentException("interface: '" + settings.ifname() + "' (expected: an interface of"
                        + " this host's network namespace; ip link lists them)");
            }
            this.interfaceQueues = rxQueuesOf(settings.ifname());
            if (settings.rxQueues() > interfaceQueues) {
                throw new IllegalArgumentException("rx.queues: " + settings.rxQueues() + " (expected: at most "
                        + interfaceQueues + ", the RX queues " + settings.ifname() + " has)");
            }
            try {
                xskMap = bpf.mapCreate(Bpf.MAP_TYPE_XSKMAP, 4, 4, interfaceQueues, "pp_xsks");
                unboundMap = bpf.mapCreate(Bpf.MAP_TYPE_ARRAY, 4, 8, interfaceQueues, "pp_unbound");
                int[] ports = settings.ports().stream().mapToInt(Integer::intValue).toArray();
                program = bpf.progLoadXdp(XdpProgram.receive(ports, xskMap, unboundMap), "pp_rx");
            } catch (Libc.SysException e) {
                throw new IllegalStateException(settings.ifname() + ": " + e.getMessage() + (e.errno() == Libc.EPERM
                        ? " (not permitted: XDP needs CAP_BPF and CAP_NET_ADMIN, e.g. root)" : ""), e);
            }
            this.zeroCopy = settings.zeroCopy() ? probeZeroCopy() : "off (zero.copy=false)";
            this.bindFlags = zeroCopy.equals("on") ? Xsk.XDP_ZEROCOPY : Xsk.XDP_COPY;
            try {
                link = bpf.linkXdp(program, ifindex, settings.nativeMode() ? Bpf.XDP_FLAGS_DRV_MODE
                        : Bpf.XDP_FLAGS_SKB_MODE);
            } catch (Libc.SysException e) {
                throw new IllegalStateException(settings.ifname() + ": attaching the XDP program in " + settings.mode()
                        + " mode: " + Libc.name(e.errno()) + switch (e.errno()) {
                            case Libc.EBUSY -> " (an XDP program is attached to " + settings.ifname()
                                    + " already: another device or process; ip link shows it)";
                            case Libc.EOPNOTSUPP, Libc.EINVAL -> " (no " + settings.mode() + " XDP support on "
                                    + settings.ifname() + (settings.nativeMode() ? "; mode=generic works everywhere)" : ")");
                            case Libc.EPERM -> " (not permitted: needs CAP_NET_ADMIN)";
                            default -> "";
                        }, e);
            }
        } catch (RuntimeException e) {
            closeKernelObjects();
            arena.close();
            throw e;
        }
        this.interfaceDropsAtStart = interfaceDrops();
        XdpQueue[] queues = new XdpQueue[settings.rxQueues()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new XdpQueue(this, i, settings);
        }
        queues(queues);
        try {
            for (XdpQueue q : queues) {
                q.open();
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        LOG.log(Level.INFO, "{0}: {1} queues of {2} by AF_XDP, {3} mode, zero-copy {4}", settings.name(),
                queues.length, settings.ifname(), settings.mode(), zeroCopy);
    }

    /**
     * The interface's {@code rx_dropped} (sysfs): frames its driver dropped, XDP's redirect
     * failures included; on a veth also the frames its peer could not queue to it (a full ring).
     */
    private long interfaceDrops() {
        try {
            return Long.parseLong(Files.readString(Path.of("/sys/class/net", settings.ifname(), "statistics",
                    "rx_dropped")).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /** The interface's drops since the device was built, all queues and causes together. */
    public long interfaceDropsSinceStart() {
        return interfaceDrops() - interfaceDropsAtStart;
    }

    /**
     * Frames the interface dropped before any socket saw them ({@code rx_missed}: on a veth, its
     * peer found the RX ring full): its {@code rx_dropped} since the device was built less what
     * the queues' sockets counted (which the interface counts too). The device's traffic and any
     * other on the interface together: the kernel does not say which.
     */
    public long missed() {
        long sockets = 0;
        XdpQueue[] queues = queues();
        if (queues != null) {
            for (XdpQueue q : queues) {
                sockets += q.socketDrops();
            }
        }
        return Math.max(0, interfaceDropsSinceStart() - sockets);
    }

    /** The RX queues the interface has: {@code /sys/class/net/<if>/queues/rx-*}. */
    private static int rxQueuesOf(String ifname) {
        int n = 0;
        try (DirectoryStream<Path> d = Files.newDirectoryStream(Path.of("/sys/class/net", ifname, "queues"), "rx-*")) {
            for (Path ignored : d) {
                n++;
            }
        } catch (IOException e) {
            return 1; // no sysfs: the kernel's bind will say when a queue is not there
        }
        return Math.max(n, 1);
    }

    /**
     * "on" when a socket of a small UMEM binds queue 0 in zero-copy mode, else "off" and why (no
     * program is attached yet, so the bind answers for the driver alone).
     */
    private String probeZeroCopy() {
        try (Arena a = Arena.ofConfined()) {
            Libc l = new Libc(a);
            MemorySegment umem = a.allocate(64L * XdpSettings.FRAME, XdpSettings.FRAME);
            Xsk x = new Xsk(a, l, umem, XdpSettings.FRAME, 64, 64);
            try {
                x.bind(a, ifindex, 0, Xsk.XDP_ZEROCOPY);
                return x.zeroCopy() ? "on" : "off (the kernel bound it in copy mode)";
            } finally {
                x.close();
            }
        } catch (Libc.SysException e) {
            return "off (" + settings.ifname() + " has none: " + Libc.name(e.errno()) + ")";
        }
    }

    public XdpSettings settings() {
        return settings;
    }

    int ifindex() {
        return ifindex;
    }

    int bindFlags() {
        return bindFlags;
    }

    // ---- consumers --------------------------------------------------------------------------------

    @Override
    public void consumer(DatagramConsumer c) {
        consumer.set(c);
    }

    /** Where the queues deliver. */
    DatagramDelivery.Slot consumerSlot() {
        return consumer;
    }

    // ---- what queues need from the device ----------------------------------------------------------

    /** A pool of the queue's UMEM size, from one contiguous range of the provider's memory. */
    PagePool createPool(int queue) {
        PoolParams p = PoolParams.builder().flags(PoolParams.DMA_MAP).order(0)
                .poolSize(Math.min(PoolParams.MAX_POOL_SIZE, settings.ringSize()))
                .contiguousPages(settings.umemFrames()).queue(settings.name(), queue).build();
        return pools.create(p);
    }

    void mapQueue(int queue, int socket) {
        synchronized (libc) {
            bpf.mapUpdate(xskMap, queue, socket);
        }
    }

    void unmapQueue(int queue) {
        synchronized (libc) {
            if (!closed) {
                bpf.mapDelete(xskMap, queue);
            }
        }
    }

    /**
     * Waits for an RCU grace period ({@code membarrier(MEMBARRIER_CMD_GLOBAL)}): every XDP run
     * that could see a map entry removed before it has ended, its frames in their rings. Through
     * the caller's own {@code libc}: a grace period takes milliseconds, and no lock is held.
     */
    static void synchronizeRcu(Libc libc) {
        long r = libc.syscallOrErrno(SYS_MEMBARRIER, MEMBARRIER_CMD_GLOBAL, 0, 0);
        if (r < 0) {
            // nohz_full kernels refuse it: a NAPI poll ends within microseconds, so wait a millisecond.
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
        }
    }

    /** Frames for the queue's ports that found it without a socket, as the program counted them. */
    long unboundDrops(int queue) {
        synchronized (libc) {
            return closed ? 0 : bpf.mapLookupLong(unboundMap, queue, lookup);
        }
    }

    /**
     * Frames for the device's ports that arrived on RX queues it does not take (beyond
     * {@code rx.queues}): the program drops and counts them, as the RSS table of a real NIC would
     * be set to keep them off those queues.
     */
    public long droppedOnOtherQueues() {
        long n = 0;
        for (int q = settings.rxQueues(); q < interfaceQueues; q++) {
            n += unboundDrops(q);
        }
        return n;
    }

    /** A queue's eventfd, woken through the device's shared system calls. */
    WakeFd wakeFd(int fd) {
        return WakeFd.through(fd, libc);
    }

    // ---- NetDevice ----------------------------------------------------------------------------------

    /** A queue takes one socket: the old one goes before the new one binds, so no swap is hitless here. */
    @Override
    protected boolean swapsWithoutBreak() {
        return false;
    }

    @Override
    public boolean headerSplit() {
        return false;
    }

    @Override
    public Map<String, Object> details() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("interface", settings.ifname());
        d.put("interface-queues", interfaceQueues);
        d.put("ports", settings.ports().toString());
        d.put("mode", settings.mode());
        d.put("zero-copy", zeroCopy);
        d.put("ring", settings.ringSize());
        d.put("umem-frames", settings.umemFrames());
        d.put("frame", XdpSettings.FRAME);
        d.put("rx-missed", missed());
        d.put("dropped-on-other-queues", droppedOnOtherQueues());
        return d;
    }

    // ---- life ---------------------------------------------------------------------------------------

    /**
     * Stops every queue and frees its memory (each socket closed, each pool closed: pages
     * consumers still hold come back later), ends the queues' threads, then detaches the program
     * (the link closes) and closes the maps.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closeQueuesAndLoops();
        synchronized (libc) {
            closed = true;
            closeKernelObjects();
        }
        arena.close();
    }

    private void closeKernelObjects() {
        for (int fd : new int[] {link, program, xskMap, unboundMap}) {
            if (fd >= 0) {
                try {
                    libc.close(fd);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "closing a BPF object of " + settings.name() + ": " + e.getMessage());
                }
            }
        }
        link = program = xskMap = unboundMap = -1;
    }
}

package pagepool.driver.uring;

import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

import pagepool.api.PagePool;
import pagepool.api.PagePoolFactory;
import pagepool.api.PoolParams;
import pagepool.api.datagram.DatagramConsumer;
import pagepool.kit.driver.DatagramDelivery;
import pagepool.kit.driver.DatagramDeviceComponent;
import pagepool.kit.driver.RxDevice;
import pagepool.kit.linux.WakeFd;

/**
 * A UDP device: {@code rxQueues} sockets bound to one address with {@code SO_REUSEPORT}, each an
 * RX queue with its own thread ({@link UringQueue}). The sockets are bound when the device is
 * made, so an address in use is an error of the configuration, not of a queue; whether io_uring
 * works is probed then too (a ring and a provided-buffer ring), and the device says which path
 * it runs and why in {@link #details()}. It creates its pools through the {@link PagePoolFactory}
 * and never learns which provider is behind them.
 */
public final class UringDevice extends RxDevice<UringQueue, UringMem>
        implements DatagramDeviceComponent.Receiver {

    private static final System.Logger LOG = System.getLogger(UringDevice.class.getName());
    private static final int SO_RCVBUFFORCE = 33;

    private final UringSettings settings;
    private final PagePoolFactory pools;
    private final Arena arena = Arena.ofShared();
    /** For the calls other threads make: guarded by itself (its scratch memory is shared). */
    private final Sys sys = new Sys(arena);
    private final MemorySegment meminfo = arena.allocate(Sys.MEMINFO_SCRATCH, 8);
    private final int[] sockets;
    private final int port;
    private final int rcvbuf;
    private final boolean ioUring;
    private final String path;
    private final boolean gro;
    private String groRefused;
    private final DatagramDelivery.Slot consumer;
    private boolean closed;

    /**
     * Binds the sockets and starts every queue's thread, with every queue stopped.
     *
     * @throws IllegalStateException naming the address and the reason when a socket cannot be bound
     */
    public UringDevice(UringSettings settings, PagePoolFactory pools) {
        super(settings.name(), UringMem.class, settings.up(), true);
        this.settings = settings;
        this.pools = pools;
        this.consumer = new DatagramDelivery.Slot(settings.name());
        this.sockets = new int[settings.rxQueues()];
        java.util.Arrays.fill(sockets, -1);
        int bound = settings.port();
        int buf = 0;
        try {
            MemorySegment sa = arena.allocate(Net.SOCKADDR_IN, 8);
            for (int i = 0; i < sockets.length; i++) {
                sockets[i] = sys.udpSocket();
                sys.setInt(sockets[i], Sys.SOL_SOCKET, Sys.SO_REUSEPORT, 1, "SO_REUSEPORT");
                buf = receiveBuffer(sockets[i], settings.rcvbufBytes());
                Net.sockaddr(sa, 0, settings.address(), bound);
                try {
                    sys.bind(sockets[i], sa);
                } catch (Sys.SysException e) {
                    throw new IllegalStateException("bind " + Net.text(settings.address()) + ":" + bound + ": "
                            + Sys.name(e.errno()), e);
                }
                if (bound == 0) {
                    bound = sys.localPort(sockets[i], sa); // the other queues share the port the kernel picked
                }
            }
        } catch (RuntimeException e) {
            closeSockets();
            arena.close();
            throw e;
        }
        this.port = bound;
        this.rcvbuf = buf;
        String why = settings.ioUring() ? probeIoUring() : "forced by io_uring=false";
        this.ioUring = why == null;
        this.path = ioUring ? "io_uring" : "recvmmsg (" + why + ")";
        this.gro = settings.gro() && ioUring && enableGro();
        UringQueue[] queues = new UringQueue[sockets.length];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new UringQueue(this, i, sockets[i], settings, ioUring, gro);
        }
        queues(queues);
        try {
            for (UringQueue q : queues) {
                q.open();
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        LOG.log(Level.INFO, "{0}: {1} queues on {2}:{3,number,#} by {4}", settings.name(), queues.length,
                Net.text(settings.address()), port, path);
    }

    /** UDP_GRO on every socket; false (and said in the details) where the kernel refuses it. */
    private boolean enableGro() {
        try {
            for (int fd : sockets) {
                sys.setInt(fd, Sys.SOL_UDP, Sys.UDP_GRO, 1, "UDP_GRO");
            }
            return true;
        } catch (Sys.SysException e) {
            groRefused = e.getMessage();
            return false;
        }
    }

    /** Sets the receive buffer, beyond {@code rmem_max} where allowed; returns what the kernel set. */
    private int receiveBuffer(int fd, int bytes) {
        if (bytes > 0) {
            try {
                sys.setInt(fd, Sys.SOL_SOCKET, SO_RCVBUFFORCE, bytes, "SO_RCVBUFFORCE");
            } catch (Sys.SysException e) {
                sys.setInt(fd, Sys.SOL_SOCKET, Sys.SO_RCVBUF, bytes, "SO_RCVBUF"); // capped at net.core.rmem_max
            }
        }
        return sys.getInt(fd, Sys.SOL_SOCKET, Sys.SO_RCVBUF, "SO_RCVBUF");
    }

    /** Null when io_uring and provided-buffer rings work here; otherwise why not. */
    private String probeIoUring() {
        try (Arena a = Arena.ofConfined()) {
            Sys s = new Sys(a);
            IoUring r = new IoUring(s, a, 16);
            try {
                BufferRing br = new BufferRing(a, 16, 1);
                r.register(br);
                r.unregister(br);
            } finally {
                r.close();
            }
            return null;
        } catch (RuntimeException e) {
            return "io_uring unavailable: " + e.getMessage();
        }
    }

    public UringSettings settings() {
        return settings;
    }

    /** The port the queues receive on (the kernel's pick when the settings say 0). */
    public int port() {
        return port;
    }

    /** Whether the queues receive through io_uring (false: recvmmsg). */
    public boolean ioUring() {
        return ioUring;
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

    PagePool createPool(int queue) {
        PoolParams p = PoolParams.builder().flags(PoolParams.DMA_MAP).order(settings.pageOrder())
                .poolSize(Math.min(PoolParams.MAX_POOL_SIZE, Math.max(1024, settings.ringSize())))
                .queue(settings.name(), queue).build();
        return pools.create(p);
    }

    /** A queue's eventfd, woken through the device's shared system calls. */
    WakeFd wakeFd(int fd) {
        return WakeFd.through(fd, sys);
    }

    void closeEventfd(int fd) {
        synchronized (sys) {
            sys.close(fd);
        }
    }

    // ---- NetDevice ----------------------------------------------------------------------------------

    @Override
    public boolean headerSplit() {
        return false;
    }

    /** The kernel's count of datagrams it dropped for the queue's socket (a full receive buffer). */
    public long kernelDrops(int queue) {
        synchronized (sys) {
            return closed ? 0 : sys.drops(sockets[queue], meminfo);
        }
    }

    @Override
    public Map<String, Object> details() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("address", Net.text(settings.address()) + ":" + port);
        d.put("path", path);
        d.put("ring", settings.ringSize());
        d.put("buffer", settings.pageSize());
        d.put("rcvbuf", rcvbuf);
        if (ioUring) {
            d.put("moderation", settings.adaptiveRx() ? "adaptive" : settings.coalesceMicros() == 0 ? "off"
                    : settings.coalesceMicros() + " us");
        }
        if (settings.gro()) {
            d.put("gro", gro ? "on" : "off (" + (ioUring ? groRefused : "io_uring only") + ")");
        }
        return d;
    }

    // ---- life ---------------------------------------------------------------------------------------

    /**
     * Stops every queue and frees its memory (each pool closes; pages consumers still hold come
     * back to it later), ends the queues' threads and their rings, then closes the sockets.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closeQueuesAndLoops();
        synchronized (sys) {
            closed = true;
            closeSockets();
        }
        arena.close();
    }

    private void closeSockets() {
        for (int i = 0; i < sockets.length; i++) {
            if (sockets[i] >= 0) {
                try {
                    sys.close(sockets[i]);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "closing a socket of " + settings.name() + ": " + e.getMessage());
                }
                sockets[i] = -1;
            }
        }
    }
}

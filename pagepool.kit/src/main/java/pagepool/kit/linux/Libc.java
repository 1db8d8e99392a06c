package pagepool.kit.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Map;

/**
 * The libc calls a driver makes through the foreign function API (no JNI), each capturing
 * {@code errno}: sockets and their options, {@code mmap}, {@code poll}, {@code eventfd},
 * interface names, CPU affinity and {@code syscall}. One instance per thread: it holds the
 * thread's {@code errno} buffer and a small scratch area, so a call allocates nothing. A failed
 * call throws {@link SysException} naming the call and the error.
 */
public class Libc {

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EBUSY = 16;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENOBUFS = 105;
    public static final int EOPNOTSUPP = 95;
    public static final int ENETDOWN = 100;
    public static final int ENXIO = 6;
    public static final int POLLIN = 0x1;
    public static final int MSG_DONTWAIT = 0x40;
    /** {@code struct pollfd}: fd, events, revents. */
    public static final int POLLFD = 8;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option SAVE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle SOCKET = fn("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT));
    private static final MethodHandle SETSOCKOPT = fn("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = fn("getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle BIND = fn("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CLOSE = fn("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = fn("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = fn("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
            JAVA_LONG));
    private static final MethodHandle EVENTFD = fn("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle MMAP = fn("mmap", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = fn("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle POLL = fn("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECVFROM = fn("recvfrom", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
            JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SENDTO = fn("sendto", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
            JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle IF_NAMETOINDEX = fn("if_nametoindex", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SCHED_SETAFFINITY = fn("sched_setaffinity", FunctionDescriptor.of(JAVA_INT,
            JAVA_INT, JAVA_LONG, ADDRESS));
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1),
            SAVE_ERRNO);

    /** A libc function whose calls capture {@code errno}, for a subclass's own calls. */
    protected static MethodHandle fn(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(
                () -> new IllegalStateException("libc has no " + name)), fd, SAVE_ERRNO);
    }

    /** Where a call leaves {@code errno}: the first argument of every handle made by {@link #fn}. */
    protected final MemorySegment errno;
    /** 64 bytes for small arguments: option values, lengths, names. */
    protected final MemorySegment scratch;

    /** @param arena where the thread's errno buffer and scratch area live */
    public Libc(Arena arena) {
        this.errno = arena.allocate(CAPTURE);
        this.scratch = arena.allocate(64, 8);
    }

    /** A failed call: {@code call} failed with {@code errno}. */
    public static final class SysException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        public SysException(String call, int errno) {
            super(call + " failed: " + name(errno));
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    private static final Map<Integer, String> NAMES = Map.ofEntries(Map.entry(EPERM, "EPERM (operation not permitted)"),
            Map.entry(ENOENT, "ENOENT (no such entry)"), Map.entry(EINTR, "EINTR"), Map.entry(ENXIO, "ENXIO"),
            Map.entry(7, "E2BIG (argument list too long)"), Map.entry(9, "EBADF"), Map.entry(EAGAIN, "EAGAIN"),
            Map.entry(ENOMEM, "ENOMEM (out of memory)"), Map.entry(13, "EACCES (permission denied)"),
            Map.entry(14, "EFAULT (bad address)"), Map.entry(EBUSY, "EBUSY (device or resource busy)"),
            Map.entry(ENODEV, "ENODEV (no such device)"), Map.entry(EINVAL, "EINVAL (invalid argument)"),
            Map.entry(24, "EMFILE (too many open files)"), Map.entry(38, "ENOSYS (not implemented by this kernel)"),
            Map.entry(EOPNOTSUPP, "EOPNOTSUPP (not supported)"), Map.entry(97, "EAFNOSUPPORT (address family not"
                    + " supported)"), Map.entry(98, "EADDRINUSE (address in use)"), Map.entry(ENETDOWN, "ENETDOWN"
                    + " (network is down)"), Map.entry(ENOBUFS, "ENOBUFS (no buffer space)"),
            Map.entry(125, "ECANCELED"), Map.entry(524, "ENOTSUPP (not supported)"));

    public static String name(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }

    protected final int errno() {
        return (int) ERRNO.get(errno, 0L);
    }

    protected final int check(String call, int r) {
        if (r < 0) {
            throw new SysException(call, errno());
        }
        return r;
    }

    protected final long check(String call, long r) {
        if (r < 0) {
            throw new SysException(call, errno());
        }
        return r;
    }

    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }

    // ---- sockets ---------------------------------------------------------------------------------------

    public final int socket(int domain, int type, int protocol) {
        try {
            return check("socket", (int) SOCKET.invokeExact(errno, domain, type, protocol));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public final void setsockopt(int fd, int level, int option, MemorySegment value, int length, String what) {
        try {
            check("setsockopt " + what, (int) SETSOCKOPT.invokeExact(errno, fd, level, option, value, length));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public final void setInt(int fd, int level, int option, int value, String what) {
        scratch.set(JAVA_INT, 0, value);
        setsockopt(fd, level, option, scratch, 4, what);
    }

    public final int getInt(int fd, int level, int option, String what) {
        getsockopt(fd, level, option, scratch.asSlice(8, 4), what);
        return scratch.get(JAVA_INT, 8);
    }

    /** Reads an option into {@code value}; returns the length the kernel wrote. */
    public final int getsockopt(int fd, int level, int option, MemorySegment value, String what) {
        scratch.set(JAVA_INT, 0, (int) value.byteSize());
        try {
            check("getsockopt " + what, (int) GETSOCKOPT.invokeExact(errno, fd, level, option, value,
                    scratch.asSlice(0, 4)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return scratch.get(JAVA_INT, 0);
    }

    public final void bind(int fd, MemorySegment sockaddr, String what) {
        try {
            check("bind " + what, (int) BIND.invokeExact(errno, fd, sockaddr, (int) sockaddr.byteSize()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public final void close(int fd) {
        try {
            check("close", (int) CLOSE.invokeExact(errno, fd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code recvfrom(fd, NULL, 0, MSG_DONTWAIT)}: how an AF_XDP socket asks its driver to look
     * at the fill ring again ({@code need_wakeup}). An empty answer is no error.
     */
    public final void kickReceive(int fd) {
        try {
            long r = (long) RECVFROM.invokeExact(errno, fd, MemorySegment.NULL, 0L, MSG_DONTWAIT, MemorySegment.NULL,
                    MemorySegment.NULL);
            if (r < 0) {
                int e = errno();
                if (e != EAGAIN && e != EINTR && e != ENOBUFS && e != ENETDOWN && e != EBUSY) {
                    throw new SysException("recvfrom (wake-up)", e);
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code sendto(fd, NULL, 0, MSG_DONTWAIT)}: an AF_XDP socket's TX kick; a busy or full ring is no error. */
    public final void kickSend(int fd) {
        try {
            long r = (long) SENDTO.invokeExact(errno, fd, MemorySegment.NULL, 0L, MSG_DONTWAIT, MemorySegment.NULL, 0);
            if (r < 0) {
                int e = errno();
                if (e != EAGAIN && e != EINTR && e != ENOBUFS && e != EBUSY && e != ENETDOWN) {
                    throw new SysException("sendto (TX kick)", e);
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- interfaces, threads -----------------------------------------------------------------------------

    /** The interface's index, or 0 when there is no interface of that name. */
    public final int ifIndex(String name) {
        byte[] b = name.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        if (b.length >= 16) {
            return 0; // IFNAMSIZ: no interface has a longer name
        }
        MemorySegment s = scratch.asSlice(16, 16);
        s.fill((byte) 0);
        MemorySegment.copy(b, 0, s, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, b.length);
        try {
            return (int) IF_NAMETOINDEX.invokeExact(errno, s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Pins the calling thread to one CPU (of the first 64). */
    public final void pinTo(int cpu) {
        scratch.set(JAVA_LONG, 0, 1L << cpu);
        try {
            check("sched_setaffinity", (int) SCHED_SETAFFINITY.invokeExact(errno, 0, 8L, scratch));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- eventfd: how other threads wake a queue's thread -----------------------------------------------

    public final int eventfd() {
        try {
            return check("eventfd", (int) EVENTFD.invokeExact(errno, 0, 0x80000 | 0x800)); // CLOEXEC | NONBLOCK
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public final void signal(int eventfd) {
        scratch.set(JAVA_LONG, 8, 1L);
        try {
            long r = (long) WRITE.invokeExact(errno, eventfd, scratch.asSlice(8, 8), 8L);
            if (r < 0 && errno() != EAGAIN) {
                throw new SysException("eventfd write", errno());
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Resets an eventfd that was signalled; nothing if it was not. */
    public final void drain(int eventfd) {
        try {
            long r = (long) READ.invokeExact(errno, eventfd, scratch.asSlice(8, 8), 8L);
            if (r < 0 && errno() != EAGAIN) {
                throw new SysException("eventfd read", errno());
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** @return how many of the {@code n} pollfds have events; 0 on timeout or interruption */
    public final int poll(MemorySegment fds, int n, int timeoutMillis) {
        try {
            int r = (int) POLL.invokeExact(errno, fds, (long) n, timeoutMillis);
            if (r < 0) {
                if (errno() == EINTR) {
                    return 0;
                }
                throw new SysException("poll", errno());
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- memory shared with the kernel -------------------------------------------------------------------

    /** Maps {@code size} bytes of {@code fd} at {@code offset}, shared and populated. */
    public final MemorySegment mmap(long size, int fd, long offset, String what) {
        try {
            MemorySegment m = (MemorySegment) MMAP.invokeExact(errno, MemorySegment.NULL, size, 0x3, // PROT_READ|WRITE
                    0x01 | 0x8000, fd, offset); // MAP_SHARED | MAP_POPULATE
            if (m.address() == -1L) {
                throw new SysException("mmap " + what, errno());
            }
            return m.reinterpret(size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public final void munmap(MemorySegment m) {
        try {
            check("munmap", (int) MUNMAP.invokeExact(errno, m, m.byteSize()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- system calls libc has no wrapper for ---------------------------------------------------------------

    /** {@code syscall(nr, a, b, c)}; a failure throws naming {@code what}. */
    public final long syscall(String what, long nr, long a, long b, long c) {
        try {
            return check(what, (long) SYSCALL.invokeExact(errno, nr, a, b, c));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The same, returning {@code -errno} instead of throwing. */
    public final long syscallOrErrno(long nr, long a, long b, long c) {
        try {
            long r = (long) SYSCALL.invokeExact(errno, nr, a, b, c);
            return r < 0 ? -errno() : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}

package pagepool.driver.uring;

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
 * The Linux calls the driver makes, through the foreign function API (no JNI, no liburing):
 * sockets, {@code mmap}, {@code eventfd}, {@code recvmmsg}/{@code sendmmsg}, {@code poll}, and the
 * three io_uring system calls through libc's {@code syscall}. One instance per thread: it holds the
 * thread's buffer for {@code errno}, so a call allocates nothing. A failed call throws
 * {@link SysException} naming the call and the error.
 */
final class Sys {

    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_NONBLOCK = 0x800;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = 1;
    /** {@code SOL_UDP}: UDP-level socket options and control messages. */
    static final int SOL_UDP = 17;
    /** {@code UDP_SEGMENT}: the size a sender's buffer is cut into (GSO). */
    static final int UDP_SEGMENT = 103;
    /** {@code UDP_GRO}: the kernel coalesces a flow's datagrams; the segment size comes as a control message. */
    static final int UDP_GRO = 104;
    static final int SO_REUSEADDR = 2;
    static final int SO_RCVBUF = 8;
    static final int SO_SNDBUF = 7;
    static final int SO_REUSEPORT = 15;
    static final int SO_MEMINFO = 55;
    static final int SK_MEMINFO_DROPS = 8;
    /** {@code SO_MEMINFO}'s answer: {@code SK_MEMINFO_VARS} (9) unsigned ints. */
    static final int SK_MEMINFO_BYTES = 36;
    /** What {@link #drops} needs of scratch: the answer, then its length ({@code socklen_t}) at 64. */
    static final int MEMINFO_SCRATCH = 72;
    private static final int MEMINFO_LEN_AT = 64;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_TRUNC = 0x20;
    static final int POLLIN = 0x1;
    static final int EAGAIN = 11;
    static final int EINTR = 4;
    static final int ENOBUFS = 105;
    static final int ECANCELED = 125;
    static final int ETIME = 62;
    static final int ENOENT = 2;

    private static final long SYS_IO_URING_SETUP = 425;
    private static final long SYS_IO_URING_ENTER = 426;
    private static final long SYS_IO_URING_REGISTER = 427;

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
    private static final MethodHandle GETSOCKNAME = fn("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS,
            ADDRESS));
    private static final MethodHandle CLOSE = fn("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = fn("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = fn("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
            JAVA_LONG));
    private static final MethodHandle EVENTFD = fn("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle MMAP = fn("mmap", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = fn("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle RECVMMSG = fn("recvmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS,
            JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SENDMMSG = fn("sendmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS,
            JAVA_INT, JAVA_INT));
    private static final MethodHandle POLL = fn("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                    JAVA_LONG),
            Linker.Option.firstVariadicArg(1), SAVE_ERRNO);

    private static MethodHandle fn(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(
                () -> new IllegalStateException("libc has no " + name)), fd, SAVE_ERRNO);
    }

    private final MemorySegment errno;
    private final MemorySegment scratch;

    /** @param arena where the thread's errno buffer and an 8-byte scratch word live */
    Sys(Arena arena) {
        this.errno = arena.allocate(CAPTURE);
        this.scratch = arena.allocate(16, 8);
    }

    /** A failed call: {@code call} failed with {@code errno}. */
    static final class SysException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int errno;

        SysException(String call, int errno) {
            super(call + " failed: " + name(errno));
            this.errno = errno;
        }
    }

    private static final Map<Integer, String> NAMES = Map.ofEntries(Map.entry(1, "EPERM (operation not permitted)"),
            Map.entry(2, "ENOENT"), Map.entry(4, "EINTR"), Map.entry(9, "EBADF"),
            Map.entry(11, "EAGAIN"), Map.entry(12, "ENOMEM (out of memory)"), Map.entry(13, "EACCES (permission denied)"),
            Map.entry(14, "EFAULT"), Map.entry(16, "EBUSY"), Map.entry(22, "EINVAL (invalid argument)"),
            Map.entry(24, "EMFILE (too many open files)"), Map.entry(38, "ENOSYS (not implemented by this kernel)"),
            Map.entry(95, "EOPNOTSUPP (not supported)"), Map.entry(97, "EAFNOSUPPORT"),
            Map.entry(98, "EADDRINUSE (address in use)"), Map.entry(99, "EADDRNOTAVAIL (address not available)"),
            Map.entry(105, "ENOBUFS"), Map.entry(125, "ECANCELED"));

    static String name(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }

    private int errno() {
        return (int) ERRNO.get(errno, 0L);
    }

    private int check(String call, int r) {
        if (r < 0) {
            throw new SysException(call, errno());
        }
        return r;
    }

    private long check(String call, long r) {
        if (r < 0) {
            throw new SysException(call, errno());
        }
        return r;
    }

    // ---- sockets ----------------------------------------------------------------------------------

    int udpSocket() {
        try {
            return check("socket", (int) SOCKET.invokeExact(errno, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void setInt(int fd, int level, int option, int value, String what) {
        scratch.set(JAVA_INT, 0, value);
        try {
            check("setsockopt " + what, (int) SETSOCKOPT.invokeExact(errno, fd, level, option, scratch, 4));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int getInt(int fd, int level, int option, String what) {
        scratch.set(JAVA_INT, 8, 4);
        try {
            check("getsockopt " + what, (int) GETSOCKOPT.invokeExact(errno, fd, level, option, scratch,
                    scratch.asSlice(8, 4)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return scratch.get(JAVA_INT, 0);
    }

    /** The kernel's count of datagrams it dropped for this socket ({@code sk_drops}, by {@code SO_MEMINFO}). */
    long drops(int fd, MemorySegment meminfo) {
        meminfo.set(JAVA_INT, MEMINFO_LEN_AT, SK_MEMINFO_BYTES);
        try {
            check("getsockopt SO_MEMINFO", (int) GETSOCKOPT.invokeExact(errno, fd, SOL_SOCKET, SO_MEMINFO, meminfo,
                    meminfo.asSlice(MEMINFO_LEN_AT, 4)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return Integer.toUnsignedLong(meminfo.get(JAVA_INT, 4L * SK_MEMINFO_DROPS));
    }

    void bind(int fd, MemorySegment sockaddr) {
        try {
            check("bind", (int) BIND.invokeExact(errno, fd, sockaddr, 16));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The port a socket is bound to (after binding to port 0). */
    int localPort(int fd, MemorySegment sockaddr) {
        scratch.set(JAVA_INT, 0, 16);
        try {
            check("getsockname", (int) GETSOCKNAME.invokeExact(errno, fd, sockaddr, scratch));
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return Net.port(sockaddr);
    }

    void close(int fd) {
        try {
            int r = (int) CLOSE.invokeExact(errno, fd);
            if (r < 0) {
                throw new SysException("close", errno());
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- eventfd: how other threads wake a queue's thread -----------------------------------------

    int eventfd() {
        try {
            return check("eventfd", (int) EVENTFD.invokeExact(errno, 0, 0x80000 | 0x800)); // CLOEXEC | NONBLOCK
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void signal(int eventfd) {
        scratch.set(JAVA_LONG, 0, 1L);
        try {
            long r = (long) WRITE.invokeExact(errno, eventfd, scratch, 8L);
            if (r < 0 && errno() != EAGAIN) {
                throw new SysException("eventfd write", errno());
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Resets an eventfd that was signalled; nothing if it was not. */
    void drain(int eventfd) {
        try {
            long r = (long) READ.invokeExact(errno, eventfd, scratch, 8L);
            if (r < 0 && errno() != EAGAIN) {
                throw new SysException("eventfd read", errno());
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- memory shared with the kernel -------------------------------------------------------------

    MemorySegment mmap(long size, int fd, long offset, String what) {
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

    void munmap(MemorySegment m) {
        try {
            check("munmap", (int) MUNMAP.invokeExact(errno, m, m.byteSize()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- batched datagrams --------------------------------------------------------------------------

    /** @return datagrams received, 0 when none was waiting */
    int recvmmsg(int fd, MemorySegment msgvec, int vlen) {
        try {
            int r = (int) RECVMMSG.invokeExact(errno, fd, msgvec, vlen, MSG_DONTWAIT, MemorySegment.NULL);
            if (r < 0) {
                int e = errno();
                if (e == EAGAIN || e == EINTR) {
                    return 0;
                }
                throw new SysException("recvmmsg", e);
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** @return datagrams sent; 0 when the socket would block */
    int sendmmsg(int fd, MemorySegment msgvec, int vlen) {
        try {
            int r = (int) SENDMMSG.invokeExact(errno, fd, msgvec, vlen, 0);
            if (r < 0) {
                int e = errno();
                if (e == EAGAIN || e == EINTR || e == ENOBUFS) {
                    return 0;
                }
                throw new SysException("sendmmsg", e);
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** @return how many of the {@code n} pollfds have events; 0 on timeout */
    int poll(MemorySegment fds, int n, int timeoutMillis) {
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

    // ---- io_uring -----------------------------------------------------------------------------------

    int ioUringSetup(int entries, MemorySegment params) {
        return (int) syscall("io_uring_setup", SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0);
    }

    /** @return SQEs consumed; a negative errno when {@code softErrors} says to return it rather than throw */
    long ioUringEnter(int fd, int toSubmit, int minComplete, int flags, MemorySegment arg, long argSize) {
        try {
            long r = (long) SYSCALL.invokeExact(errno, SYS_IO_URING_ENTER, (long) fd, (long) toSubmit,
                    (long) minComplete, (long) flags, arg.address(), argSize);
            if (r < 0) {
                int e = errno();
                if (e == ETIME || e == EINTR || e == EAGAIN) {
                    return -e; // a timeout or an interrupted wait: the caller looks at the CQ again
                }
                throw new SysException("io_uring_enter", e);
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void ioUringRegister(int fd, int opcode, MemorySegment arg, int nrArgs, String what) {
        syscall("io_uring_register " + what, SYS_IO_URING_REGISTER, fd, opcode, arg.address(), nrArgs, 0);
    }

    private long syscall(String what, long nr, long a, long b, long c, long d, long e) {
        try {
            return check(what, (long) SYSCALL.invokeExact(errno, nr, a, b, c, d, e, 0L));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}

package pagepool.driver.uring;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import pagepool.kit.linux.Libc;

/**
 * The Linux calls the UDP driver makes beyond the kit's {@link Libc} (sockets, {@code mmap},
 * {@code poll}, {@code eventfd}): UDP sockets, their drop count, {@code recvmmsg}/{@code sendmmsg}
 * and the three io_uring system calls. One instance per thread, as {@link Libc}: a call
 * allocates nothing; a failed call throws {@link Libc.SysException} naming the call and the error.
 */
final class Sys extends Libc {

    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
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
    /** What {@link #drops} needs of scratch: the answer. */
    static final int MEMINFO_SCRATCH = 72;
    static final int MSG_TRUNC = 0x20;
    static final int ECANCELED = 125;
    static final int ETIME = 62;

    private static final long SYS_IO_URING_SETUP = 425;
    private static final long SYS_IO_URING_ENTER = 426;
    private static final long SYS_IO_URING_REGISTER = 427;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle GETSOCKNAME = fn("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS,
            ADDRESS));
    private static final MethodHandle RECVMMSG = fn("recvmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS,
            JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SENDMMSG = fn("sendmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS,
            JAVA_INT, JAVA_INT));
    private static final MethodHandle SYSCALL6 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                    JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));

    /** @param arena where the thread's errno buffer and scratch area live */
    Sys(Arena arena) {
        super(arena);
    }

    // ---- sockets ----------------------------------------------------------------------------------

    int udpSocket() {
        return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    }

    /** The kernel's count of datagrams it dropped for this socket ({@code sk_drops}, by {@code SO_MEMINFO}). */
    long drops(int fd, MemorySegment meminfo) {
        getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo.asSlice(0, SK_MEMINFO_BYTES), "SO_MEMINFO");
        return Integer.toUnsignedLong(meminfo.get(JAVA_INT, 4L * SK_MEMINFO_DROPS));
    }

    void bind(int fd, MemorySegment sockaddr) {
        bind(fd, sockaddr.asSlice(0, Net.SOCKADDR_IN), "UDP socket");
    }

    /** The port a socket is bound to (after binding to port 0). */
    int localPort(int fd, MemorySegment sockaddr) {
        scratch.set(JAVA_INT, 0, Net.SOCKADDR_IN);
        try {
            check("getsockname", (int) GETSOCKNAME.invokeExact(errno, fd, sockaddr, scratch));
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return Net.port(sockaddr);
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

    // ---- io_uring -----------------------------------------------------------------------------------

    int ioUringSetup(int entries, MemorySegment params) {
        return (int) syscall6("io_uring_setup", SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0);
    }

    /** @return SQEs consumed; a negative errno for a timeout or an interrupted wait */
    long ioUringEnter(int fd, int toSubmit, int minComplete, int flags, MemorySegment arg, long argSize) {
        try {
            long r = (long) SYSCALL6.invokeExact(errno, SYS_IO_URING_ENTER, (long) fd, (long) toSubmit,
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
        syscall6("io_uring_register " + what, SYS_IO_URING_REGISTER, fd, opcode, arg.address(), nrArgs, 0);
    }

    private long syscall6(String what, long nr, long a, long b, long c, long d, long e) {
        try {
            return check(what, (long) SYSCALL6.invokeExact(errno, nr, a, b, c, d, e, 0L));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}

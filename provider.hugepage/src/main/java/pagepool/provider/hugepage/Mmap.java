package pagepool.provider.hugepage;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * {@code mmap}, {@code munmap} and {@code madvise} from libc through the foreign function API
 * (no JNI), with errno. Linux x86_64 and aarch64 values; {@link #available()} is false where the
 * symbols cannot be found.
 */
final class Mmap {

    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    static final int MAP_HUGETLB = 0x40000;
    static final int MAP_HUGE_SHIFT = 26;
    static final int MADV_HUGEPAGE = 14;
    static final int ENOMEM = 12;

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private final MethodHandle mmap;
    private final MethodHandle munmap;
    private final MethodHandle madvise;

    /** The result of a call: a value, or -1 and errno. */
    record Result(long value, int errno) {
        boolean failed() {
            return value == -1;
        }
    }

    Mmap() {
        Linker linker = Linker.nativeLinker();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        var libc = linker.defaultLookup();
        this.mmap = libc.find("mmap").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), errno)).orElse(null);
        this.munmap = libc.find("munmap").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), errno)).orElse(null);
        this.madvise = libc.find("madvise").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(
                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT), errno))
                .orElse(null);
    }

    boolean available() {
        return mmap != null && munmap != null && madvise != null;
    }

    Result mmap(long length, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            long r = (long) mmap.invokeExact(state, 0L, length, PROT_READ | PROT_WRITE, flags, -1, 0L);
            return new Result(r, r == -1 ? (int) ERRNO.get(state, 0L) : 0);
        } catch (Throwable e) {
            throw new IllegalStateException("mmap failed to run: " + e, e);
        }
    }

    Result munmap(long address, long length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int r = (int) munmap.invokeExact(state, address, length);
            return new Result(r, r == -1 ? (int) ERRNO.get(state, 0L) : 0);
        } catch (Throwable e) {
            throw new IllegalStateException("munmap failed to run: " + e, e);
        }
    }

    Result madvise(long address, long length, int advice) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int r = (int) madvise.invokeExact(state, address, length, advice);
            return new Result(r, r == -1 ? (int) ERRNO.get(state, 0L) : 0);
        } catch (Throwable e) {
            throw new IllegalStateException("madvise failed to run: " + e, e);
        }
    }
}

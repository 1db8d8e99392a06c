package pagepool.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolParams;
import pagepool.engine.StandaloneEngine;
import pagepool.provider.heap.HeapMemoryProvider;

/**
 * The page pool's hot paths per 4 KiB page, beside Netty's pooled allocator and the floor of a
 * bare array stack. Run with {@code ./bench PagePoolBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED",
        "-Dio.netty.leakDetection.level=disabled"})
public class PagePoolBenchmark {

    /** A pool whose NAPI owner is the benchmark thread. */
    @State(Scope.Thread)
    public static class OwnedPool {
        StandaloneEngine engine;
        PagePool pool;

        @Setup(Level.Trial)
        public void setUp() {
            engine = new StandaloneEngine();
            pool = engine.createPool(PoolParams.builder().queue("bench0", 0).build(), new HeapMemoryProvider(1L << 30));
            // Warm the cache so the measured loop stays on the fast path.
            pool.recycleDirect(pool.alloc());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pool.close();
            engine.close();
        }
    }

    /** (1) The kernel's fast path: alloc from the cache and direct recycle into it. */
    @Benchmark
    public Netmem allocRecycleDirect(OwnedPool s) {
        Netmem nm = s.pool.alloc();
        s.pool.recycleDirect(nm);
        return nm;
    }

    /** (1') The same with the generation check that refuses a stale reference. */
    @Benchmark
    public Netmem allocRecycleDirectChecked(OwnedPool s) {
        Netmem nm = s.pool.alloc();
        s.pool.recycleDirect(nm, nm.generation());
        return nm;
    }

    /**
     * (2a) The ring path without the second core: release() always recycles through the ring,
     * and the next allocs refill the cache from it.
     */
    @Benchmark
    public Netmem allocReleaseViaRingSameThread(OwnedPool s) {
        Netmem nm = s.pool.alloc();
        s.pool.release(nm);
        return nm;
    }

    /** A pool shared by a NAPI thread and a stack thread, with a handoff queue between them. */
    @State(Scope.Group)
    public static class SharedPool {
        StandaloneEngine engine;
        PagePool pool;
        SpscHandoff handoff;
        /** A page the NAPI thread could not hand off yet; NAPI thread only. */
        Netmem pending;

        @Setup(Level.Trial)
        public void setUp() {
            engine = new StandaloneEngine();
            pool = engine.createPool(PoolParams.builder().queue("bench0", 1).build(), new HeapMemoryProvider(1L << 30));
            handoff = new SpscHandoff(256);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            // Pages still in the handoff come back before the pool closes.
            for (Netmem nm; (nm = handoff.poll()) != null;) {
                pool.release(nm);
            }
            if (pending != null) {
                pool.release(pending);
            }
            pool.close();
            engine.close();
        }
    }

    /**
     * (2b) NAPI side: allocate a page and pass it to the stack thread. A call moves one page
     * unless the handoff is full; the pages moved per second are what the throughput mode of
     * this group reports for napiAlloc. The stack side's ops include its empty polls.
     */
    @Benchmark
    @Group("crossThread")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Netmem napiAlloc(SharedPool s, Moved moved) {
        // Never wait on the stack thread: JMH may already have stopped it at an iteration's end.
        Netmem nm = s.pending;
        if (nm == null && (nm = s.pool.alloc()) == null) {
            return null;
        }
        if (s.handoff.offer(nm)) {
            s.pending = null;
            moved.pages++;
        } else {
            s.pending = nm;
        }
        return nm;
    }

    /** Pages that went round NAPI → stack → pool: JMH reports them per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Moved {
        public long pages;

        @Setup(Level.Iteration)
        public void reset() {
            pages = 0;
        }
    }

    /** (2b) Stack side: release a received page from the other thread (the ring path). */
    @Benchmark
    @Group("crossThread")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void stackRelease(SharedPool s) {
        Netmem nm = s.handoff.poll();
        if (nm != null) {
            s.pool.release(nm);
        } else {
            Thread.onSpinWait();
        }
    }

    /** A batch of received pages on the stack side, with the generations they came with. */
    @State(Scope.Thread)
    public static class Batch {
        final Netmem[] pages = new Netmem[64];
        final int[] generations = new int[64];
    }

    /** (2c) NAPI side of the bulk variant: the same as (2b). */
    @Benchmark
    @Group("crossThreadBulk")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Netmem napiAllocForBulk(SharedPool s, Moved moved) {
        return napiAlloc(s, moved);
    }

    /**
     * (2c) Stack side, page_pool_put_netmem_bulk: up to 64 received pages at a time, given back
     * with one bulk release (one ring reservation), each checked against its generation.
     */
    @Benchmark
    @Group("crossThreadBulk")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void stackReleaseBulk(SharedPool s, Batch b) {
        int n = 0;
        for (Netmem nm; n < b.pages.length && (nm = s.handoff.poll()) != null; n++) {
            b.pages[n] = nm;
            b.generations[n] = nm.generation();
        }
        if (n > 0) {
            s.pool.release(b.pages, b.generations, n);
        } else {
            Thread.onSpinWait();
        }
    }

    /**
     * The control for (2b): the same two threads and handoff, with 128 plain objects going round
     * through a second handoff instead of the pool's ring. What (2b) costs above this is the pool.
     */
    @State(Scope.Group)
    public static class HandoffOnly {
        final SpscHandoff forward = new SpscHandoff(256);
        final SpscHandoff back = new SpscHandoff(256);
        Netmem pending;

        @Setup(Level.Trial)
        public void setUp() {
            MemoryArea area = MemoryArea.unreadable("control", 1L << 30, 128 * 4096).build();
            for (int i = 0; i < 128; i++) {
                back.offer(new Netmem(area, i) { });
            }
        }
    }

    /** Control, NAPI side: take a returned object and pass it on. */
    @Benchmark
    @Group("crossThreadHandoffOnly")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Netmem controlNapi(HandoffOnly s, Moved moved) {
        Netmem nm = s.pending;
        if (nm == null && (nm = s.back.poll()) == null) {
            return null;
        }
        if (s.forward.offer(nm)) {
            s.pending = null;
            moved.pages++;
        } else {
            s.pending = nm;
        }
        return nm;
    }

    /** Control, stack side: return what arrives. */
    @Benchmark
    @Group("crossThreadHandoffOnly")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void controlStack(HandoffOnly s) {
        Netmem nm = s.forward.poll();
        if (nm != null) {
            s.back.offer(nm); // never full: 128 objects in a 256-slot handoff
        } else {
            Thread.onSpinWait();
        }
    }

    /** Netty's pooled direct allocator with its thread-local cache. */
    @State(Scope.Thread)
    public static class Netty {
        PooledByteBufAllocator alloc;

        @Setup(Level.Trial)
        public void setUp() {
            // Netty 4.2 caches only for its own threads by default; give the benchmark thread a
            // cache too, or Netty pays for its arena lock on every call.
            alloc = new PooledByteBufAllocator(true, PooledByteBufAllocator.defaultNumHeapArena(),
                    PooledByteBufAllocator.defaultNumDirectArena(), PooledByteBufAllocator.defaultPageSize(),
                    PooledByteBufAllocator.defaultMaxOrder(), PooledByteBufAllocator.defaultSmallCacheSize(),
                    PooledByteBufAllocator.defaultNormalCacheSize(), true);
            alloc.directBuffer(4096, 4096).release();
        }
    }

    /** (3) The same 4 KiB alloc/release with Netty's PooledByteBufAllocator. */
    @Benchmark
    public ByteBuf nettyPooledDirect(Netty s) {
        ByteBuf b = s.alloc.directBuffer(4096, 4096);
        b.release();
        return b;
    }

    /** Netty 4.2's default allocator, adaptive, with its caches for threads outside event loops. */
    @State(Scope.Thread)
    public static class NettyAdaptive {
        AdaptiveByteBufAllocator alloc;

        @Setup(Level.Trial)
        public void setUp() {
            alloc = new AdaptiveByteBufAllocator(true, true);
            alloc.directBuffer(4096, 4096).release();
        }
    }

    /** (3') The same 4 KiB alloc/release with Netty's AdaptiveByteBufAllocator. */
    @Benchmark
    public ByteBuf nettyAdaptiveDirect(NettyAdaptive s) {
        ByteBuf b = s.alloc.directBuffer(4096, 4096);
        b.release();
        return b;
    }

    /** A preallocated stack of objects: nothing is cheaper than this. */
    @State(Scope.Thread)
    public static class ArrayStack {
        static final int MASK = 127;
        final Object[] slots = new Object[MASK + 1];
        int count;

        @Setup(Level.Trial)
        public void setUp() {
            for (int i = 0; i < slots.length; i++) {
                slots[i] = new Object();
            }
            count = slots.length;
        }
    }

    /**
     * (4) The floor: pop and push one preallocated object. The mask (one AND, the stack is 128
     * deep) keeps the push in the compiled loop: without it the JIT sees the object stored back
     * into the slot it was just loaded from and drops the store (see {@link #arrayStackPopElided}).
     */
    @Benchmark
    public Object arrayStackPopPush(ArrayStack s) {
        Object o = s.slots[--s.count];
        s.slots[s.count++ & ArrayStack.MASK] = o;
        return o;
    }

    /**
     * (4') The floor as first written: the JIT drops the push (no store into the array is left
     * in the compiled loop), so this is a pop alone. Kept to show the difference.
     */
    @Benchmark
    public Object arrayStackPopElided(ArrayStack s) {
        Object o = s.slots[--s.count];
        s.slots[s.count++] = o;
        return o;
    }

    /**
     * Pages in flight between alloc and recycle, as on a NIC ring: the page recycled is the one
     * allocated {@value #DEPTH} calls earlier, never the page just handed out, whose alloc and
     * recycle the JIT may partly fuse (it can know the reference count it has just set).
     */
    @State(Scope.Thread)
    public static class InFlight {
        static final int DEPTH = 16;
        final Netmem[] pages = new Netmem[DEPTH];
        final Object[] slots = new Object[DEPTH];
        int next;
    }

    /** (1'') Alloc + direct recycle with {@value InFlight#DEPTH} pages in flight: every check runs. */
    @Benchmark
    public Netmem allocRecycleDirectInFlight(OwnedPool s, InFlight f) {
        Netmem nm = s.pool.alloc();
        Netmem old = f.pages[f.next];
        f.pages[f.next] = nm;
        f.next = (f.next + 1) & (InFlight.DEPTH - 1);
        if (old != null) {
            s.pool.recycleDirect(old);
        }
        return nm;
    }

    /** (4'') The floor of (1''): the same in-flight slots around a pop and a push. */
    @Benchmark
    public Object arrayStackPopPushInFlight(ArrayStack s, InFlight f) {
        Object o = s.slots[--s.count];
        Object old = f.slots[f.next];
        f.slots[f.next] = o;
        f.next = (f.next + 1) & (InFlight.DEPTH - 1);
        if (old != null) {
            s.slots[s.count++] = old;
        }
        return o;
    }
}

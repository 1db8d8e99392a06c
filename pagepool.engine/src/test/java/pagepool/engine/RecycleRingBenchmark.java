package pagepool.engine;

import java.util.concurrent.TimeUnit;

import org.jctools.queues.varhandle.MpscVarHandleArrayQueue;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pool's recycle ring beside JCTools' VarHandle-based MPSC array queue
 * ({@code jctools-core-jdk11}), both 1024 slots: an offer and a poll on one thread (a NAPI owner
 * that released into its own ring), and a producer thread handing elements to a consumer thread
 * (a socket thread releasing pages that NAPI takes back). A benchmark, not a test: it lives beside
 * the package-private ring and runs with {@code ./bench ring}.
 */
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2)
public class RecycleRingBenchmark {

    private static final int SLOTS = 1024;

    @State(Scope.Thread)
    public static class OneThread {
        final RecycleRing<Object> ring = new RecycleRing<>(SLOTS);
        final MpscVarHandleArrayQueue<Object> jctools = new MpscVarHandleArrayQueue<>(SLOTS);
        final Object element = new Object();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Object ringOfferPoll(OneThread s) {
        s.ring.offer(s.element);
        return s.ring.poll();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Object jctoolsOfferPoll(OneThread s) {
        s.jctools.offer(s.element);
        return s.jctools.poll();
    }

    @State(Scope.Group)
    public static class TwoThreads {
        final RecycleRing<Object> ring = new RecycleRing<>(SLOTS);
        final MpscVarHandleArrayQueue<Object> jctools = new MpscVarHandleArrayQueue<>(SLOTS);
        final Object element = new Object();
    }

    /** Elements that crossed from the producer to the consumer: the rate to compare. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Moved {
        public long moved;

        @Setup(Level.Iteration)
        public void reset() {
            moved = 0;
        }
    }

    @Benchmark
    @Group("ringAcrossThreads")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public boolean ringProducer(TwoThreads s) {
        return s.ring.offer(s.element);
    }

    @Benchmark
    @Group("ringAcrossThreads")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Object ringConsumer(TwoThreads s, Moved m) {
        Object e = s.ring.poll();
        if (e != null) {
            m.moved++;
        }
        return e;
    }

    @Benchmark
    @Group("jctoolsRelaxedAcrossThreads")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public boolean jctoolsRelaxedProducer(TwoThreads s) {
        return s.jctools.offer(s.element);
    }

    /** relaxedPoll: an empty slot means empty, as in our ring (poll re-reads the producer index). */
    @Benchmark
    @Group("jctoolsRelaxedAcrossThreads")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Object jctoolsRelaxedConsumer(TwoThreads s, Moved m) {
        Object e = s.jctools.relaxedPoll();
        if (e != null) {
            m.moved++;
        }
        return e;
    }

    @Benchmark
    @Group("jctoolsAcrossThreads")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public boolean jctoolsProducer(TwoThreads s) {
        return s.jctools.offer(s.element);
    }

    @Benchmark
    @Group("jctoolsAcrossThreads")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Object jctoolsConsumer(TwoThreads s, Moved m) {
        Object e = s.jctools.poll();
        if (e != null) {
            m.moved++;
        }
        return e;
    }
}

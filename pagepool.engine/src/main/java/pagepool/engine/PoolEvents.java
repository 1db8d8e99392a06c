package pagepool.engine;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * The engine's JDK Flight Recorder events: what an operator records with {@code jcmd <pid>
 * JFR.start}. Each is committed where the thing happens, off the alloc/recycle path: a restart,
 * a pool detaching, stalling or being destroyed, a release refused, a provider running dry (once
 * per dry spell, not per failed allocation), and each pool's counters once a second.
 */
final class PoolEvents {

    private PoolEvents() {
    }

    private static final String CATEGORY = "pagepool";

    /** What every pool's event says first: which pool, of which queue, on which provider. */
    abstract static class PoolEvent extends Event {
        @Label("Pool")
        int pool;
        @Label("Queue")
        String queue;
        @Label("Provider")
        String provider;

        /** Names the pool, its queue and its provider. */
        void about(PagePoolImpl p) {
            pool = p.id();
            queue = p.queueName();
            provider = p.providerName();
        }
    }

    @Name("pagepool.QueueRestart")
    @Label("Queue Restart")
    @Category(CATEGORY)
    @Description("An RX queue switched memory: netdev_rx_queue_restart, or a hitless swap")
    @StackTrace(false)
    static final class QueueRestart extends Event {
        @Label("Device")
        String device;
        @Label("Queue")
        int queue;
        @Label("From Provider")
        @Description("The provider the queue ran on; empty for a first start")
        String fromProvider;
        @Label("To Provider")
        String toProvider;
        @Label("Done")
        @Description("Whether the queue runs on the new provider now")
        boolean done;
        @Label("Hitless")
        @Description("Switched between two polls (swap), never stopped")
        boolean hitless;
        @Label("Failure")
        String failure;
        @Label("Alloc")
        @Timespan(Timespan.NANOSECONDS)
        long allocNanos;
        @Label("Switch")
        @Description("swap, or stop and start: the queue is stopped this long unless hitless")
        @Timespan(Timespan.NANOSECONDS)
        long switchNanos;
        @Label("Free")
        @Timespan(Timespan.NANOSECONDS)
        long freeNanos;
        @Label("Packets Dropped")
        @Description("The driver's drops counter across the restart; -1 when the driver has none")
        long dropped;
    }

    @Name("pagepool.PoolDetach")
    @Label("Pool Detach")
    @Category(CATEGORY)
    @Description("A pool was closed while consumers held its pages: it waits for them")
    @StackTrace(false)
    static final class PoolDetach extends PoolEvent {
        @Label("Inflight")
        long inflight;
        @Label("Inflight Bytes")
        @DataAmount
        long inflightBytes;
    }

    @Name("pagepool.PoolDestroy")
    @Label("Pool Destroy")
    @Category(CATEGORY)
    @Description("A pool's last page came back and its provider's destroy ran")
    @StackTrace(false)
    static final class PoolDestroy extends PoolEvent {
        @Label("Detached For")
        @Description("How long it waited for its pages after close; 0 if none was out")
        @Timespan(Timespan.NANOSECONDS)
        long detachedNanos;
    }

    @Name("pagepool.PoolStall")
    @Label("Pool Stall")
    @Category(CATEGORY)
    @Description("A detached pool still waits for its pages after stall.millis")
    @StackTrace(false)
    static final class PoolStall extends PoolEvent {
        @Label("Inflight")
        long inflight;
        @Label("Waited")
        @Timespan(Timespan.MILLISECONDS)
        long waitedMillis;
    }

    @Name("pagepool.BadRelease")
    @Label("Bad Release")
    @Category(CATEGORY)
    @Description("A release the pool refused: a double or stale release, or another pool's page")
    static final class BadRelease extends PoolEvent {
        @Label("Message")
        String message;
    }

    @Name("pagepool.ProviderExhausted")
    @Label("Provider Exhausted")
    @Category(CATEGORY)
    @Description("A pool's provider had no page to give; once per dry spell")
    @StackTrace(false)
    static final class ProviderExhausted extends PoolEvent {
        @Label("Hold")
        @Description("Pages the pool had taken from the provider so far")
        long hold;
    }

    @Name("pagepool.PoolStatistics")
    @Label("Pool Statistics")
    @Category(CATEGORY)
    @Description("One pool's page-pool-stats-get counters and inflight pages")
    @Period("1 s")
    @StackTrace(false)
    static final class PoolStatistics extends PoolEvent {
        @Label("State")
        String state;
        @Label("Inflight")
        long inflight;
        @Label("Alloc Fast")
        long allocFast;
        @Label("Alloc Slow")
        long allocSlow;
        @Label("Alloc Slow High Order")
        long allocSlowHighOrder;
        @Label("Alloc Empty")
        long allocEmpty;
        @Label("Alloc Refill")
        long allocRefill;
        @Label("Alloc Waive")
        long allocWaive;
        @Label("Recycle Cached")
        long recycleCached;
        @Label("Recycle Cache Full")
        long recycleCacheFull;
        @Label("Recycle Ring")
        long recycleRing;
        @Label("Recycle Ring Full")
        long recycleRingFull;
        @Label("Recycle Released Refcnt")
        long recycleReleasedRefcnt;
    }
}

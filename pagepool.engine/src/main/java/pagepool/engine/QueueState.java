package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import pagepool.api.QueueId;
import pagepool.api.binding.QueueInfo;

/**
 * One RX queue's memory as the engine knows it: the provider it runs on, the one a restart is
 * installing, the providers it avoids after they failed it, and the state and message operators
 * see. Written on the engine thread; read from anywhere (a driver creating pools, introspection).
 */
final class QueueState {

    private static final System.Logger LOG = System.getLogger(QueueState.class.getName());

    final QueueId id;
    volatile GuardedProvider current;
    /** The provider pools of this queue get while a restart allocates their memory. */
    volatile GuardedProvider installing;
    /** Pools made for the queue while its new memory is allocated: closed if the allocation fails. */
    final List<PagePoolImpl> installed = new CopyOnWriteArrayList<>();
    /** Providers the queue is not put on until something changes: a restart onto them failed, or they faulted. */
    final Set<GuardedProvider> avoid = ConcurrentHashMap.newKeySet();
    /** Why the last of them is avoided. */
    volatile String avoidWhy = "";
    volatile int poolId;
    volatile QueueInfo.State state = QueueInfo.State.DOWN;
    volatile String message = "waiting for memory";
    /**
     * Starts after the queue's first, as drivers count them ({@code restarts} in their stats):
     * restarts and swaps onto new memory, and starts from nothing after link down or a failure.
     */
    volatile long restarts;
    /** Whether the queue ever started; engine thread only. */
    boolean startedOnce;
    /**
     * A call into the queue's driver overran its budget and the engine went on without it: no
     * other restart or stop touches the queue until the driver answers. Engine thread only.
     */
    boolean stuck;
    /** What the driver reported, while the queue is failed. */
    volatile String driverFault;
    /** What a restart under way recovers from, said once the queue runs again; engine thread only. */
    String recovering;
    /** When the next restart to recover from a driver fault may run; engine thread only. */
    long nextRecovery;

    QueueState(QueueId id) {
        this.id = id;
    }

    /** The message first: a reader that sees the new state sees its message. */
    void set(QueueInfo.State state, String message) {
        this.message = message;
        this.state = state;
    }

    /** The queue runs: as it should (OK), or on a fallback (UNHEALTHY, saying why). */
    void settle(GuardedProvider want) {
        if (current == want) {
            avoid.clear();
            set(QueueInfo.State.OK, recovering != null ? recovering : "");
        } else {
            set(QueueInfo.State.UNHEALTHY, avoidWhy + "; it runs on '" + current.name + "' instead");
        }
    }

    /**
     * A restart onto {@code target} failed: avoid it, and say why and what the queue runs on, in
     * the same words {@link #settle} uses, so the message does not depend on which runs last.
     */
    void failedOnto(GuardedProvider target, QueueInfo.State state, String why) {
        avoid.add(target);
        avoidWhy = why;
        GuardedProvider cur = current;
        set(state, cur == null ? why : why + "; it runs on '" + cur.name + "' instead");
        LOG.log(Level.WARNING, "queue {0}: {1}", id, message);
    }

    /** The queue has no memory any more: it is stopped. */
    void lost() {
        current = null;
        poolId = 0;
    }
}

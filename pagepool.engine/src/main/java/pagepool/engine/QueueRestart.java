package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import pagepool.api.QueueId;
import pagepool.api.binding.Change;
import pagepool.api.binding.QueueInfo;
import pagepool.api.queue.QueueMemory;

/**
 * Linux's {@code netdev_rx_queue_restart}: allocate the new memory first, stop the queue, start it
 * on the new memory, free the old; if the start fails, start again on the old memory. A queue that
 * ran on nothing (just registered, or stopped by a failure) starts the same way. A running queue
 * whose driver can swap ({@link pagepool.api.queue.QueueMgmtOps#canSwap}) is switched instead,
 * make-before-break: allocate, swap between two polls, free the old; it is never stopped, and a
 * swap that fails leaves it on its old memory. Also the other half of the queue API,
 * {@link #shutDown}, for a device going down.
 *
 * <p>Drivers are other people's code: every call into one is guarded here, and whatever it throws
 * leaves the queue in a state that says so. Runs on the engine thread.
 */
final class QueueRestart {

    private static final System.Logger LOG = System.getLogger(QueueRestart.class.getName());

    private volatile Consumer<RestartRecord> listener = r -> { };
    /** Told of a provider that ran over a budget, off the engine thread's current work. */
    private volatile java.util.function.BiConsumer<GuardedProvider, String> overBudget = (p, what) -> { };
    private final ChangeFeed changes;
    /** Every restart's time: pp:restarts and /metrics show the histogram. */
    final RestartHistogram histogram = new RestartHistogram();
    /** Every call into the driver, and the frees, under their budgets. */
    private final PluginCalls calls;
    /** The engine's thread: reconciles what an overrun left once the driver answers. */
    private final EngineThread thread;

    QueueRestart(ChangeFeed changes, PluginCalls calls, EngineThread thread) {
        this.changes = changes;
        this.calls = calls;
        this.thread = thread;
    }

    /** Who is told of a provider charged for running over a budget. */
    void onOverBudget(java.util.function.BiConsumer<GuardedProvider, String> charge) {
        this.overBudget = charge;
    }

    /** Who is told of each restart, besides the log; must not block. */
    void onRestart(Consumer<RestartRecord> listener) {
        this.listener = listener;
    }

    /**
     * Restarts the queue onto {@code target}, and settles its state against {@code want}: a
     * running queue whose driver can swap switches without stopping; any other stops and starts.
     *
     * @return whether the queue runs on {@code target} now
     */
    boolean restart(Device dev, QueueState qs, GuardedProvider target, GuardedProvider want) {
        if (qs.stuck || dev.gone) {
            return false; // its driver has not answered an earlier call (left alone until it does), or is gone
        }
        int q = qs.id.index();
        GuardedProvider old = qs.current;
        long faultsBefore = target.faults.total();
        RestartPhases t = new RestartPhases(dev, q, calls);
        QueueMemory fresh;
        qs.installed.clear();
        qs.installing = target;
        try {
            fresh = allocate(dev, qs, old, target, t);
            if (fresh == null) {
                throw new IllegalStateException("memAlloc returned no memory");
            }
        } catch (Budget.OverBudgetException e) {
            closeLeftovers(qs);
            if (e.settled()) {
                return answeredLate(dev, qs);
            }
            return allocOverrun(qs, old, target, t, "");
        } catch (Throwable e) {
            closeLeftovers(qs);
            return failed(qs, old, target, t.allocated(), false, old == null ? QueueInfo.State.DOWN
                    : QueueInfo.State.UNHEALTHY, "allocating memory on provider '" + target.name + "' failed: "
                            + withFault(message(e), target, faultsBefore));
        } finally {
            qs.installing = null;
        }
        qs.installed.clear();
        t.allocated();
        boolean hitless = old != null && canSwap(dev, qs);
        QueueMemory previous;
        QueueMemory mem = fresh;
        if (hitless) {
            try {
                previous = driverOp(qs, "swap", () -> dev.ops.swap(q, mem));
            } catch (Throwable e) {
                memFree(dev, fresh);
                return failed(qs, old, target, t.switched(), true, QueueInfo.State.UNHEALTHY,
                        "swapping onto provider '" + target.name + "' failed: " + message(e));
            }
        } else {
            try {
                previous = driverOp(qs, "stop", () -> dev.ops.stop(q));
            } catch (Throwable e) {
                memFree(dev, fresh);
                return failed(qs, old, target, t.switched(), false, QueueInfo.State.UNHEALTHY,
                        "stopping the queue failed: " + message(e));
            }
            try {
                driverOp(qs, "start", () -> {
                    dev.ops.start(q, mem);
                    return null;
                });
            } catch (Throwable e) {
                return rollBack(dev, qs, old, target, fresh, previous, t,
                        "starting on provider '" + target.name + "' failed: " + message(e));
            }
        }
        t.switched();
        qs.current = target;
        qs.poolId = poolId(fresh);
        countStart(qs);
        qs.driverFault = null;
        qs.settle(want);
        // Told before the old memory goes: the queue moved first, then its old pool is destroyed.
        changes.publish(Change.Kind.QUEUE_CHANGED, 0, qs.id, target.name, old == null ? "started"
                : (hitless ? "swapped" : "restarted") + " from '" + old.name + "'");
        if (previous != null) {
            memFree(dev, previous);
        }
        if (old != null && old != target) {
            old.uninstall(qs.id);
        }
        report(t.record(qs.id, old, target, true, hitless, ""));
        return true;
    }

    /**
     * The driver's memory allocation under its budget: inline on the engine thread, which goes on
     * without it if it overruns ({@link EngineThread#inline}); on a budget thread otherwise.
     */
    private QueueMemory allocate(Device dev, QueueState qs, GuardedProvider old, GuardedProvider target, RestartPhases t)
            throws Exception {
        int q = qs.id.index();
        return calls.call("memAlloc of " + qs.id + " onto provider '" + target.name + "'", () -> dev.ops.memAlloc(q),
                late -> memFree(dev, late), () -> {
            qs.stuck = true;
            allocOverrun(qs, old, target, t, "; the queue is left alone until its driver answers");
        });
    }

    /** The allocation overran its budget: the queue stays on its memory, and the provider is charged if it was in a call. */
    private boolean allocOverrun(QueueState qs, GuardedProvider old, GuardedProvider target, RestartPhases t, String then) {
        boolean providerCall = target.inCall();
        long allocBudgetMillis = calls.millis();
        String why = providerCall ? "provider '" + target.name + "' was still setting up or allocating after "
                + allocBudgetMillis + " ms (expected: within " + allocBudgetMillis + " ms); charged as its fault"
                : "the driver did not allocate within " + allocBudgetMillis + " ms";
        if (providerCall) {
            target.fault(null, Faults.Call.INIT, why, null);
            overBudget.accept(target, why);
        }
        return failed(qs, old, target, t.allocated(), false, old == null ? QueueInfo.State.DOWN
                : QueueInfo.State.UNHEALTHY, "allocating memory on provider '" + target.name + "' failed: " + why
                        + "; what it allocates late is freed" + then);
    }

    /**
     * The driver answered an allocation the engine went on without (its overrun was settled then,
     * its late memory is being freed): the queue may be restarted again, and is reconciled with
     * what was asked meanwhile; a device that went down meanwhile has it stopped now.
     */
    private boolean answeredLate(Device dev, QueueState qs) {
        qs.stuck = false;
        if (!dev.enabled && qs.current != null) {
            shutDown(dev, qs);
        }
        thread.reconcileLater();
        return false;
    }

    /**
     * One of the driver's queue operations (canSwap, swap, stop, start) under the allocation's
     * budget, inline on the engine thread. Past it the engine goes on without the queue, which is
     * left alone until the driver answers; its answer, however late, is what happened to the queue,
     * so the restart then goes on with it and the queue is reconciled with what was asked meanwhile.
     */
    private <T> T driverOp(QueueState qs, String op, Budget.Work<T> call) throws Exception {
        try {
            return calls.ask(op + " of " + qs.id, call, () -> driverOverrun(qs, op));
        } finally {
            if (qs.stuck) {
                qs.stuck = false;
                thread.reconcileLater();
            }
        }
    }

    /** Settles a queue operation past its budget, on the engine's new thread. */
    private void driverOverrun(QueueState qs, String op) {
        qs.stuck = true;
        long millis = calls.millis();
        String why = "its driver did not answer " + op + " within " + millis + " ms (expected: within " + millis
                + " ms); the queue is left alone until it does";
        qs.set(QueueInfo.State.UNHEALTHY, why);
        LOG.log(Level.WARNING, "queue {0}: {1}", qs.id, why);
        GuardedProvider cur = qs.current;
        changes.publish(Change.Kind.QUEUE_CHANGED, 0, qs.id, cur == null ? "" : cur.name, "UNHEALTHY: " + why);
    }

    /** A first start is no restart; every later one is, whatever the queue started from. */
    private static void countStart(QueueState qs) {
        if (qs.startedOnce) {
            qs.restarts++;
        }
        qs.startedOnce = true;
    }

    /** Whether the driver can switch the running queue without stopping it; a driver that cannot say cannot. */
    private boolean canSwap(Device dev, QueueState qs) {
        try {
            return driverOp(qs, "canSwap", () -> dev.ops.canSwap(qs.id.index()));
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "{0}: canSwap failed: {1}", dev.name, message(t));
            return false;
        }
    }

    /** The start on new memory failed: start again on the previous memory, if there was any. */
    private boolean rollBack(Device dev, QueueState qs, GuardedProvider old, GuardedProvider target, QueueMemory fresh,
            QueueMemory previous, RestartPhases t, String why) {
        memFree(dev, fresh);
        if (previous == null) {
            qs.lost();
            return failed(qs, old, target, t.switched(), false, QueueInfo.State.DOWN,
                    why + "; it had no memory to fall back to");
        }
        try {
            driverOp(qs, "start", () -> {
                dev.ops.start(qs.id.index(), previous);
                return null;
            });
            countStart(qs);
            return failed(qs, old, target, t.switched(), false, QueueInfo.State.UNHEALTHY,
                    why + "; restarted on its previous memory");
        } catch (Throwable again) {
            memFree(dev, previous);
            qs.lost();
            return failed(qs, old, target, t.switched(), false, QueueInfo.State.DOWN,
                    why + "; restarting on its previous memory failed too: " + message(again));
        }
    }

    private boolean failed(QueueState qs, GuardedProvider old, GuardedProvider target, RestartPhases t, boolean hitless,
            QueueInfo.State state, String why) {
        qs.failedOnto(target, state, why);
        GuardedProvider now = qs.current;
        changes.publish(Change.Kind.QUEUE_CHANGED, 0, qs.id, now == null ? "" : now.name, state + ": restart onto '"
                + target.name + "' failed: " + why);
        report(t.record(qs.id, old, target, false, hitless, why));
        return false;
    }

    /**
     * {@code ip link set down} for one queue: stop it and free its memory; its pools are destroyed,
     * or detach while consumers hold pages.
     */
    void shutDown(Device dev, QueueState qs) {
        if (dev.gone) {
            return; // its driver went with its queues
        }
        if (qs.stuck) {
            LOG.log(Level.WARNING, "{0}: not stopped for link down yet: its driver has not answered its memory"
                    + " allocation; stopped when it does", qs.id);
            return;
        }
        try {
            QueueMemory m = driverOp(qs, "stop", () -> dev.ops.stop(qs.id.index()));
            if (m != null) {
                memFreeAndWait(dev, m);
            }
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "{0}: stopping it for link down failed: {1}", qs.id, message(t));
        }
        GuardedProvider old = qs.current;
        qs.lost();
        qs.driverFault = null;
        qs.set(QueueInfo.State.DOWN, "the device is down");
        changes.publish(Change.Kind.QUEUE_CHANGED, 0, qs.id, "", "stopped: the device is down");
        if (old != null) {
            old.uninstall(qs.id);
        }
    }

    private void report(RestartRecord r) {
        histogram.record(r);
        if (LOG.isLoggable(Level.DEBUG)) {
            LOG.log(Level.DEBUG, (r.done() ? "queue {0}: {1} from ''{2}'' onto ''{3}''"
                    : "queue {0}: {1} from ''{2}'' onto ''{3}'' failed") + " in {4} us (alloc {5}, switch {6}, free {7})",
                    r.queue(), r.hitless() ? "swapped" : "restarted", r.from(), r.to(),
                    String.valueOf(micros(r.totalNanos())), String.valueOf(micros(r.allocNanos())),
                    String.valueOf(micros(r.switchNanos())), String.valueOf(micros(r.freeNanos())));
        }
        try {
            listener.accept(r);
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "a restart listener failed", t);
        }
    }

    private static long micros(long nanos) {
        return TimeUnit.NANOSECONDS.toMicros(nanos);
    }


    /** Pools the driver made for memory it then failed to allocate, and left open. */
    private static void closeLeftovers(QueueState qs) {
        for (PagePoolImpl p : qs.installed) {
            if (p.isActive()) {
                LOG.log(Level.WARNING, "queue {0}: closing pool {1}, left open by a failed memory allocation", qs.id,
                        String.valueOf(p.id()));
                try {
                    p.close();
                } catch (Throwable t) {
                    LOG.log(Level.ERROR, "closing pool " + p.id() + " failed", t);
                }
            }
        }
        qs.installed.clear();
    }

    /**
     * Frees memory the queue no longer runs on, off the engine thread: its pages go back to the
     * provider, which may be slow, and nothing the engine does next waits for them (Linux, too,
     * destroys a pool in the background: {@code page_pool_release_retry}). At most two of a
     * device's frees run at once, the rest wait in line: a driver hung in them holds two threads,
     * not one per restart after it.
     */
    private void memFree(Device dev, QueueMemory memory) {
        calls.later(dev, "memFree on " + dev.name, () -> dev.ops.memFree(memory));
    }

    /**
     * Frees a stopped queue's memory and waits up to the free budget (1 s) for it: whoever
     * sees a device down finds its rings freed, unless the provider takes its pages back slowly
     * (then the free goes on by itself).
     */
    private void memFreeAndWait(Device dev, QueueMemory memory) {
        try {
            calls.andWait(dev, "memFree on " + dev.name, () -> dev.ops.memFree(memory));
        } catch (Budget.OverBudgetException e) {
            LOG.log(Level.WARNING, "{0}: freeing a stopped queue''s memory takes over {1} ms (its provider takes back"
                    + " pages slowly, or an earlier free of the device has not returned); it goes on without the"
                    + " engine", dev.name, String.valueOf(calls.freeMillis()));
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "{0}: memFree failed: {1}", dev.name, message(t));
        }
    }

    private static int poolId(QueueMemory memory) {
        try {
            return memory.pool().id();
        } catch (Throwable t) {
            return 0;
        }
    }

    /** The driver's words, and the provider's fault behind them if it faulted meanwhile and they do not say it. */
    private static String withFault(String message, GuardedProvider p, long faultsBefore) {
        String last = p.faults.last();
        return p.faults.total() > faultsBefore && !message.contains(last) ? message + " (provider fault: " + last + ")"
                : message;
    }

    static String message(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }
}

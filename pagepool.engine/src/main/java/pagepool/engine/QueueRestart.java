package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import pagepool.api.binding.QueueInfo;
import pagepool.api.queue.QueueMemory;

/**
 * Linux's {@code netdev_rx_queue_restart}: allocate the new memory first, stop the queue, start it
 * on the new memory, free the old; if the start fails, start again on the old memory. A queue that
 * ran on nothing (just registered, or stopped by a failure) starts the same way. Also the other
 * half of the queue API, {@link #shutDown}, for a device going down.
 *
 * <p>Drivers are other people's code: every call into one is guarded here, and whatever it throws
 * leaves the queue in a state that says so. Runs on the engine thread.
 */
final class QueueRestart {

    private static final System.Logger LOG = System.getLogger(QueueRestart.class.getName());

    private volatile Consumer<RestartRecord> listener = r -> { };

    /** Who is told of each restart, besides the log; must not block. */
    void onRestart(Consumer<RestartRecord> listener) {
        this.listener = listener;
    }

    /**
     * Restarts the queue onto {@code target}, and settles its state against {@code want}.
     *
     * @return whether the queue runs on {@code target} now
     */
    boolean restart(Device dev, QueueState qs, GuardedProvider target, GuardedProvider want) {
        int q = qs.id.index();
        GuardedProvider old = qs.current;
        long faultsBefore = target.faults.total();
        long t0 = System.nanoTime();
        QueueMemory fresh;
        qs.installed.clear();
        qs.installing = target;
        try {
            fresh = dev.dev.memAlloc(q);
            if (fresh == null) {
                throw new IllegalStateException("memAlloc returned no memory");
            }
        } catch (Throwable e) {
            closeLeftovers(qs);
            return failed(qs, old, target, t0, 0, old == null ? QueueInfo.State.DOWN : QueueInfo.State.UNHEALTHY,
                    "allocating memory on provider '" + target.name + "' failed: "
                            + withFault(message(e), target, faultsBefore));
        } finally {
            qs.installing = null;
        }
        qs.installed.clear();
        QueueMemory previous;
        long stopAt = System.nanoTime();
        try {
            previous = dev.dev.stop(q);
        } catch (Throwable e) {
            memFree(dev, fresh);
            return failed(qs, old, target, t0, 0, QueueInfo.State.UNHEALTHY, "stopping the queue failed: " + message(e));
        }
        try {
            dev.dev.start(q, fresh);
        } catch (Throwable e) {
            return rollBack(dev, qs, old, target, fresh, previous, t0, stopAt,
                    "starting on provider '" + target.name + "' failed: " + message(e));
        }
        long started = System.nanoTime();
        if (previous != null) {
            memFree(dev, previous);
        }
        qs.current = target;
        qs.poolId = poolId(fresh);
        if (previous != null) {
            qs.restarts++; // a first start is no restart
        }
        qs.driverFault = null;
        qs.settle(want);
        if (old != null && old != target) {
            old.uninstall(qs.id);
        }
        report(new RestartRecord(qs.id, name(old), target.name, true, "", started - t0, started - stopAt,
                System.nanoTime() - t0));
        return true;
    }

    /** The start on new memory failed: start again on the previous memory, if there was any. */
    private boolean rollBack(Device dev, QueueState qs, GuardedProvider old, GuardedProvider target, QueueMemory fresh,
            QueueMemory previous, long t0, long stopAt, String why) {
        memFree(dev, fresh);
        if (previous == null) {
            qs.lost();
            return failed(qs, old, target, t0, System.nanoTime() - stopAt, QueueInfo.State.DOWN,
                    why + "; it had no memory to fall back to");
        }
        try {
            dev.dev.start(qs.id.index(), previous);
            return failed(qs, old, target, t0, System.nanoTime() - stopAt, QueueInfo.State.UNHEALTHY,
                    why + "; restarted on its previous memory");
        } catch (Throwable again) {
            memFree(dev, previous);
            qs.lost();
            return failed(qs, old, target, t0, System.nanoTime() - stopAt, QueueInfo.State.DOWN,
                    why + "; restarting on its previous memory failed too: " + message(again));
        }
    }

    private boolean failed(QueueState qs, GuardedProvider old, GuardedProvider target, long t0, long stoppedNanos,
            QueueInfo.State state, String why) {
        qs.failedOnto(target, state, why);
        report(new RestartRecord(qs.id, name(old), target.name, false, why, 0, stoppedNanos, System.nanoTime() - t0));
        return false;
    }

    /**
     * {@code ip link set down} for one queue: stop it and free its memory; its pools are destroyed,
     * or detach while consumers hold pages.
     */
    void shutDown(Device dev, QueueState qs) {
        try {
            QueueMemory m = dev.dev.stop(qs.id.index());
            if (m != null) {
                memFree(dev, m);
            }
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "{0}: stopping it for link down failed: {1}", qs.id, message(t));
        }
        GuardedProvider old = qs.current;
        qs.lost();
        qs.driverFault = null;
        qs.set(QueueInfo.State.DOWN, "the device is down");
        if (old != null) {
            old.uninstall(qs.id);
        }
    }

    private void report(RestartRecord r) {
        if (LOG.isLoggable(Level.DEBUG)) {
            LOG.log(Level.DEBUG, r.done()
                    ? "queue {0}: restarted from ''{1}'' onto ''{2}'' in {3} us (stopped {4} us)"
                    : "queue {0}: restart from ''{1}'' onto ''{2}'' failed after {3} us (stopped {4} us)",
                    r.queue(), r.from(), r.to(), String.valueOf(micros(r.totalNanos())),
                    String.valueOf(micros(r.stoppedNanos())));
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

    private static String name(GuardedProvider p) {
        return p == null ? "" : p.name;
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

    private static void memFree(Device dev, QueueMemory memory) {
        try {
            dev.dev.memFree(memory);
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

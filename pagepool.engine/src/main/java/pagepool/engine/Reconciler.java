package pagepool.engine;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

import pagepool.api.QueueId;
import pagepool.api.binding.QueueInfo;
import pagepool.engine.BindingTable.Binding;

/**
 * Decides which queues restart, and onto what. A queue should run on the provider its binding
 * names if that one can serve it (present, not quarantined, readable or the device splits headers,
 * not private to another bundle), else on the default provider; a provider that failed the queue
 * is avoided until something changes. The reconciler restarts exactly the queues whose memory is
 * not what it should be, and it also acts on what drivers and providers report: a device going
 * down or up, a queue its driver says failed, a provider that faulted.
 *
 * <p>Runs on the engine thread, except {@link #providerForNewPool}, which a driver calls while it
 * allocates memory.
 */
final class Reconciler {

    private static final System.Logger LOG = System.getLogger(Reconciler.class.getName());
    /** A queue whose driver reports a failure is restarted at most this often. */
    private static final long RECOVERY_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ProviderRegistry providers;
    private final Devices devices;
    private final BindingTable table;
    private final QueueRestart restart;
    private final PluginCalls calls;

    Reconciler(ProviderRegistry providers, Devices devices, BindingTable table, QueueRestart restart,
            PluginCalls calls) {
        this.providers = providers;
        this.devices = devices;
        this.table = table;
        this.restart = restart;
        this.calls = calls;
    }

    // ---- what a queue should run on --------------------------------------------------------------

    /** The provider a queue's binding asks for if it can serve it, else the default; null if none. */
    GuardedProvider desired(QueueId q, Device d) {
        Binding b = table.holder(q);
        if (b != null) {
            GuardedProvider p = b.resolve(providers);
            if (p != null && usable(p, b, d)) {
                return p;
            }
        }
        return providers.defaultProvider();
    }

    private static boolean usable(GuardedProvider p, Binding b, Device d) {
        return BindingChecks.cannotServe(p, b, d) == null;
    }

    /**
     * What the queue should run on now: what it should, unless that is avoided; then what it runs
     * on if that still serves, else the default; null if nothing can serve it.
     */
    GuardedProvider targetFor(QueueState qs, GuardedProvider want) {
        if (want == null || !qs.avoid.contains(want)) {
            return want;
        }
        GuardedProvider cur = qs.current;
        if (cur != null && !qs.avoid.contains(cur) && providers.contains(cur) && !cur.quarantined()) {
            return cur;
        }
        GuardedProvider dflt = providers.defaultProvider();
        return dflt == null || qs.avoid.contains(dflt) ? null : dflt;
    }

    /**
     * The provider for a pool the driver creates for the queue: the one a restart is installing,
     * else the one it runs on, else the one it should run on. Any thread.
     */
    GuardedProvider providerForNewPool(QueueState qs, Device d) {
        GuardedProvider installing = qs.installing;
        if (installing != null) {
            return installing;
        }
        GuardedProvider current = qs.current;
        return current != null ? current : targetFor(qs, desired(qs.id, d));
    }

    // ---- reconciling -----------------------------------------------------------------------------

    void all() {
        for (Device d : devices.all()) {
            device(d);
        }
    }

    /** Restarts each queue of the device whose memory is not what it should be; nothing while it is down. */
    void device(Device d) {
        if (!d.enabled) {
            return;
        }
        for (int i = 0; i < d.queueCount; i++) {
            queue(d, devices.queue(d, i));
        }
    }

    void queue(Device d, QueueState qs) {
        if (qs.stuck) {
            return; // its driver has not answered an earlier call; reconciled when it does
        }
        GuardedProvider want = desired(qs.id, d);
        GuardedProvider target = targetFor(qs, want);
        GuardedProvider cur = qs.current;
        if (target == null) {
            if (cur == null) {
                qs.set(QueueInfo.State.DOWN, "no memory provider can serve it; it starts when one can");
            } else if (!providers.contains(cur) || cur.quarantined()) {
                qs.set(QueueInfo.State.UNHEALTHY, "its provider '" + cur.name + "' is gone and no other can serve it:"
                        + " it runs on the old memory until one can");
            }
            return;
        }
        if (target != cur) {
            restart.restart(d, qs, target, want);
        } else if (qs.driverFault == null) {
            qs.settle(want);
        }
    }

    /** Restarts the queue now, onto what it should run on, trying every provider afresh (an operator asked). */
    void restartNow(Device d, QueueState qs) {
        if (!d.enabled) {
            return;
        }
        qs.avoid.clear();
        GuardedProvider want = desired(qs.id, d);
        GuardedProvider target = targetFor(qs, want);
        if (target != null) {
            restart.restart(d, qs, target, want);
        }
    }

    /** A new device: its queues come up on the memory they should run on, or wait for it to come up. */
    void takeOver(Device d) {
        for (int i = 0; i < d.queueCount; i++) {
            QueueState qs = devices.queue(d, i);
            if (!d.enabled) {
                qs.set(QueueInfo.State.DOWN, "the device is down");
            }
        }
        device(d);
    }

    // ---- what drivers report -----------------------------------------------------------------------

    /**
     * Applies the device's administrative state ({@link Device#enabled}; the caller reports it as
     * {@link Device#up} once the bindings say so too), asks its driver whether its queues failed,
     * and restarts the ones that did.
     *
     * @return whether anything changed that binding states derive from
     */
    boolean checkHealth(Device d, long now) {
        if (d.healthOwed || d.gone) {
            return false;
        }
        Health h;
        try {
            // Past the budget, not asked again until it answers: a new question each interval would strand a thread each.
            h = calls.ask("the health check of " + d.name, () -> Health.of(d), () -> {
                d.healthOwed = true;
                LOG.log(Level.WARNING, "{0}: its driver did not answer its health check within {1} ms; not asked again"
                        + " until it does", d.name, String.valueOf(calls.millis()));
            });
        } catch (Exception e) {
            LOG.log(Level.WARNING, "{0}: its health check failed: {1}", d.name, QueueRestart.message(e));
            return false;
        } finally {
            d.healthOwed = false;
        }
        boolean changed = false;
        boolean up = h.up();
        if (up != d.enabled) {
            if (up) {
                linkUp(d);
            } else {
                linkDown(d);
            }
            return true; // the queues' faults were read before: the next check reads them afresh
        }
        if (!d.enabled) {
            return false;
        }
        for (int i = 0; i < d.queueCount; i++) {
            QueueState qs = devices.queue(new QueueId(d.name, i));
            if (qs != null) {
                changed |= checkQueue(d, qs, h.faults()[i], now);
            }
        }
        return changed;
    }

    /** What the driver says of its device: its administrative state, and each queue's failure or null. */
    private record Health(boolean up, String[] faults) {
        static Health of(Device d) {
            String[] faults = new String[d.queueCount];
            for (int i = 0; i < faults.length; i++) {
                try {
                    faults[i] = d.dev.queueFault(i);
                } catch (Throwable t) {
                    faults[i] = Faults.describe("queueFault", t);
                }
            }
            return new Health(Device.adminUp(d.dev), faults);
        }
    }

    private boolean checkQueue(Device d, QueueState qs, String fault, long now) {
        if (fault == null) {
            if (qs.driverFault == null) {
                return false;
            }
            qs.driverFault = null;
            queue(d, qs);
            return true;
        }
        if (!fault.equals(qs.driverFault)) {
            LOG.log(Level.WARNING, "queue {0} failed in its driver: {1}; restarting it", qs.id, fault);
        }
        qs.driverFault = fault;
        qs.set(QueueInfo.State.FAILED, "its driver reports: " + fault + "; restarting it");
        if (now - qs.nextRecovery >= 0) {
            qs.nextRecovery = now + RECOVERY_INTERVAL_NANOS;
            GuardedProvider want = desired(qs.id, d);
            GuardedProvider target = targetFor(qs, want);
            if (target != null) {
                qs.recovering = "restarted after its driver reported: " + fault;
                restart.restart(d, qs, target, want);
                qs.recovering = null;
            }
        }
        return true;
    }

    /**
     * {@code ip link set down}: every queue stops and its memory is freed; its pools are destroyed,
     * or detach while consumers hold pages. Nothing starts until the device is up again.
     */
    private void linkDown(Device d) {
        d.enabled = false;
        LOG.log(Level.INFO, "{0} is down: its queues stop and their memory is freed", d.name);
        for (int i = 0; i < d.queueCount; i++) {
            QueueState qs = devices.queue(new QueueId(d.name, i));
            if (qs != null) {
                restart.shutDown(d, qs);
            }
        }
    }

    /** {@code ip link set up}: every queue starts on new memory, with what was asked meanwhile. */
    private void linkUp(Device d) {
        d.enabled = true;
        LOG.log(Level.INFO, "{0} is up: its queues start", d.name);
        for (int i = 0; i < d.queueCount; i++) {
            QueueState qs = devices.queue(new QueueId(d.name, i));
            if (qs != null) {
                qs.avoid.clear();
            }
        }
        device(d);
    }

    // ---- what providers do -------------------------------------------------------------------------

    /**
     * A provider faulted in a pool of queue {@code q} (null: a pool of no queue). Quarantines it
     * once it reaches {@code faultLimit}, and moves the queue off it: to what it ran on before if
     * that still serves, else to the default provider.
     */
    void providerFault(GuardedProvider p, QueueId q, String what, int faultLimit) {
        if (!providers.contains(p)) {
            return; // gone already, and its queues with it
        }
        long total = p.faults.total();
        boolean quarantined = false;
        if (!p.quarantined() && total >= faultLimit) {
            p.quarantine = "quarantined after " + total + " faults (last: " + what + "); not used until it registers"
                    + " again or an operator resets it (pp:provider_reset " + p.name + ")";
            LOG.log(Level.WARNING, "provider ''{0}'' {1}", p.name, p.quarantine);
            quarantined = true;
        }
        QueueState qs = q == null ? null : devices.queue(q);
        if (qs != null && qs.current == p && !qs.avoid.contains(p)) {
            qs.avoid.add(p);
            qs.avoidWhy = "provider '" + p.name + "' faulted: " + what;
        }
        if (quarantined) {
            all();
        } else if (qs != null) {
            Device d = devices.get(q.device());
            if (d != null) {
                queue(d, qs);
            }
        }
    }
}

package pagepool.shell;

import java.io.IOException;
import java.util.Collections;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleListener;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.cm.ConfigurationEvent;
import org.osgi.service.cm.ConfigurationListener;
import org.osgi.service.cm.ManagedService;
import org.osgi.service.cm.ManagedServiceFactory;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import pagepool.kit.config.ConfigReport;
import pagepool.kit.config.ConfigValues;

/**
 * Speaks for the {@code .cfg} files in {@code load/} that are wrong in ways no bundle can see:
 * a key written twice or a file far too large ({@link ConfigFileShape}), and files that nothing reads: a misspelt file name
 * ({@code pagepool.engin.cfg}) or a provider's file whose bundle is not installed would otherwise
 * sit in Config Admin in silence. A file's PID (or factory PID) that no component and no managed
 * service of the running bundles reads is listed by {@code pp:problems}, once, until a bundle
 * that reads it comes or the file goes. The file itself is kept: it applies when that bundle is
 * installed.
 */
@Component(service = ConfigurationListener.class)
public final class UnreadConfigCheck implements ConfigurationListener, BundleListener {

    private final BundleContext context;
    private final ConfigurationAdmin configs;
    private final ServiceComponentRuntime scr;
    private final Map<String, ConfigReport> unread = new ConcurrentHashMap<>();
    /** Files with a shape problem, by file, with what was said: said again only when it changes. */
    private final Map<String, Map.Entry<String, ConfigReport>> misshapen = new ConcurrentHashMap<>();
    /** Quiet time before a check: bundles start in waves (drivers, then the web), each wave its components. */
    static final long SETTLE_MILLIS = 5000;
    /** One check at a time, off the framework's event threads, {@link #SETTLE_MILLIS} after the last event. */
    private final ScheduledExecutorService checks = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pagepool-config-check");
        t.setDaemon(true);
        return t;
    });
    private ScheduledFuture<?> pending;

    @Activate
    public UnreadConfigCheck(BundleContext context, @Reference ConfigurationAdmin configs,
            @Reference ServiceComponentRuntime scr) {
        this.context = context;
        this.configs = configs;
        this.scr = scr;
        context.addBundleListener(this);
        submit();
    }

    @Deactivate
    void deactivate() {
        context.removeBundleListener(this);
        checks.shutdownNow();
        unread.values().forEach(ConfigReport::close);
        unread.clear();
        misshapen.values().forEach(e -> e.getValue().close());
        misshapen.clear();
    }

    @Override
    public void configurationEvent(ConfigurationEvent event) {
        submit();
    }

    @Override
    public void bundleChanged(BundleEvent event) {
        if (event.getType() == BundleEvent.STARTED || event.getType() == BundleEvent.STOPPED) {
            submit();
        }
    }

    private synchronized void submit() {
        if (pending != null) {
            pending.cancel(false);
        }
        try {
            pending = checks.schedule(this::check, SETTLE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopping
        }
    }

    /** Lists the files nobody reads, and forgets those read now or gone. */
    void check() {
        Set<String> read = readPids();
        Map<String, Unread> files = new HashMap<>();
        Map<String, String> shapes = new HashMap<>();
        try {
            Configuration[] all = configs.listConfigurations("(" + ConfigValues.FILE + "=*)");
            for (Configuration c : all == null ? new Configuration[0] : all) {
                Dictionary<String, Object> props = c.getProperties();
                Object file = props == null ? null : props.get(ConfigValues.FILE);
                if (file != null) {
                    List<String> wrong = ConfigFileShape.problems(String.valueOf(file));
                    if (!wrong.isEmpty()) {
                        shapes.put(String.valueOf(file), String.join("; ", wrong));
                    }
                }
                String pid = c.getFactoryPid() != null ? c.getFactoryPid() : c.getPid();
                if (!read.contains(pid)) {
                    Dictionary<String, Object> p = c.getProperties();
                    Map<String, Object> m = new HashMap<>();
                    for (String k : p == null ? Collections.<String>emptyList() : Collections.list(p.keys())) {
                        m.put(k, p.get(k));
                    }
                    files.put(c.getPid(), new Unread(ConfigValues.sourceOf(m), pid));
                }
            }
        } catch (IOException | InvalidSyntaxException | IllegalStateException e) {
            return; // Config Admin is going: nothing to say
        }
        shapeProblems(shapes);
        unread.keySet().removeIf(pid -> {
            if (files.containsKey(pid)) {
                return false;
            }
            unread.get(pid).close();
            return true;
        });
        // The PIDs an operator writes: pagepool's, not components named after their classes.
        Set<String> known = new TreeSet<>();
        read.stream().filter(p -> p.startsWith("pagepool.") && !Character.isUpperCase(p.charAt(p.lastIndexOf('.') + 1)))
                .forEach(known::add);
        files.forEach((pid, f) -> unread.computeIfAbsent(pid, k -> {
            ConfigReport r = new ConfigReport(context);
            r.refuse(f.source(), "configuration " + f.pid(), "no running bundle reads " + f.pid() + " (expected: one of "
                    + known + "; a provider's file waits for its bundle in load/); kept, it applies when a bundle"
                    + " that reads it starts");
            return r;
        }));
    }

    /** Lists each misshapen file once, again when what is wrong changes; forgets fixed ones. */
    private void shapeProblems(Map<String, String> shapes) {
        misshapen.entrySet().removeIf(e -> {
            if (e.getValue().getKey().equals(shapes.get(e.getKey()))) {
                return false;
            }
            e.getValue().getValue().close();
            return true;
        });
        shapes.forEach((file, what) -> misshapen.computeIfAbsent(file, f -> {
            ConfigReport r = new ConfigReport(context);
            String name = f.substring(f.lastIndexOf('/') + 1);
            r.refuse(name, "configuration file", what);
            return Map.entry(what, r);
        }));
    }

    /** The PIDs and factory PIDs the running bundles' components and managed services read. */
    private Set<String> readPids() {
        Set<String> pids = new TreeSet<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
            Collections.addAll(pids, d.configurationPid);
        }
        for (Class<?> type : new Class<?>[] {ManagedService.class, ManagedServiceFactory.class}) {
            try {
                ServiceReference<?>[] refs = context.getAllServiceReferences(type.getName(), null);
                for (ServiceReference<?> r : refs == null ? new ServiceReference<?>[0] : refs) {
                    Object pid = r.getProperty("service.pid");
                    if (pid instanceof String s) {
                        pids.add(s);
                    } else if (pid instanceof String[] a) {
                        Collections.addAll(pids, a);
                    }
                }
            } catch (InvalidSyntaxException e) {
                throw new AssertionError(e); // no filter given
            }
        }
        return pids;
    }

    /** A file no bundle reads: its name and the PID (or factory PID) it configures. */
    private record Unread(String source, String pid) {
    }
}

package pagepool.shell;

import java.io.File;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

import org.apache.felix.fileinstall.ArtifactInstaller;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.BundleListener;
import org.osgi.framework.Version;
import org.osgi.framework.VersionRange;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import pagepool.kit.config.ConfigReport;

/**
 * Decides which jars {@code load/} takes, and speaks for the ones it does not, which FileInstall
 * would pass over in silence or install to harm: a file named {@code .jar} that is not a readable
 * jar or has no bundle manifest; a fragment of the framework (an extension that changes or stops
 * it) or of a bundle the runtime starts with (attaching would refresh it and everything wired to
 * it); a bundle reusing the symbolic name of one the runtime starts with; a manifest whose versions
 * do not parse. Each is refused with one line and listed by {@code pp:problems} until it is
 * replaced or removed. A bundle it takes that then does not start (a requirement nothing
 * provides, an activator that throws) is listed too, with the framework's one-line reason; the
 * trace goes to the log file only.
 */
@Component(service = ArtifactInstaller.class)
public final class LoadFolderCheck implements ArtifactInstaller, BundleListener {

    /** FileInstall installs, then starts in the same pass: a bundle not active by then did not start. */
    static final long START_WAIT_MILLIS = 3000;

    private final BundleContext context;
    private final Map<String, ConfigReport> refused = new ConcurrentHashMap<>();
    /** load/ bundles that did not start, by bundle id. */
    private final Map<Long, ConfigReport> notStarted = new ConcurrentHashMap<>();
    private final java.util.concurrent.ScheduledExecutorService checks =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "pagepool-load-check");
                t.setDaemon(true);
                return t;
            });

    @Activate
    public LoadFolderCheck(BundleContext context) {
        this.context = context;
        context.addBundleListener(this);
    }

    @Deactivate
    void deactivate() {
        context.removeBundleListener(this);
        checks.shutdownNow();
        refused.values().forEach(ConfigReport::close);
        refused.clear();
        notStarted.values().forEach(ConfigReport::close);
        notStarted.clear();
    }

    @Override
    public void bundleChanged(BundleEvent event) {
        Bundle b = event.getBundle();
        if (!b.getLocation().contains("/load/")) {
            return;
        }
        switch (event.getType()) {
            case BundleEvent.INSTALLED, BundleEvent.UPDATED -> {
                try {
                    checks.schedule(() -> checkStarted(b), START_WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // stopping
                }
            }
            case BundleEvent.STARTED, BundleEvent.UNINSTALLED -> {
                ConfigReport r = notStarted.remove(b.getBundleId());
                if (r != null) {
                    r.close();
                }
            }
            default -> {
            }
        }
    }

    /** A bundle from load/ that is not active a while after it came: said once, with why. */
    private void checkStarted(Bundle b) {
        int state = b.getState();
        if (state == Bundle.ACTIVE || state == Bundle.STARTING || state == Bundle.UNINSTALLED
                || b.getHeaders("").get("Fragment-Host") != null) {
            return;
        }
        String why;
        if (state == Bundle.INSTALLED) {
            // Resolving has no side effect: ask the framework why it cannot, in its own words.
            try {
                b.start(Bundle.START_TRANSIENT);
                return; // it resolves and starts now: something it needed came meanwhile
            } catch (BundleException | IllegalStateException | SecurityException e) {
                why = "does not resolve: " + oneLine(e.getMessage());
            }
        } else {
            why = "resolved but did not start: its activator failed (its trace is in log/pagepool.log)";
        }
        String file = b.getLocation().substring(b.getLocation().lastIndexOf('/') + 1);
        notStarted.computeIfAbsent(b.getBundleId(), k -> new ConfigReport(context)).refuse(file, "load folder",
                "bundle " + b.getSymbolicName() + " " + why + " (expected: a bundle that starts here)");
    }

    private static String oneLine(String s) {
        String t = s == null ? "" : s.replaceAll("\\s+", " ").strip();
        return t.length() > 300 ? t.substring(0, 300) + "..." : t;
    }

    @Override
    public boolean canHandle(File artifact) {
        return artifact.getName().endsWith(".jar") && whyRefused(artifact) != null;
    }

    @Override
    public void install(File artifact) {
        refuse(artifact);
    }

    @Override
    public void update(File artifact) {
        refuse(artifact);
    }

    @Override
    public void uninstall(File artifact) {
        ConfigReport r = refused.remove(artifact.getAbsolutePath());
        if (r != null) {
            r.close();
        }
    }

    private void refuse(File artifact) {
        String why = whyRefused(artifact);
        if (why == null) {
            uninstall(artifact);
            return;
        }
        refused.computeIfAbsent(artifact.getAbsolutePath(), k -> new ConfigReport(context)).refuse(artifact.getName(),
                "load folder", why + "; nothing was installed");
    }

    /** Why the jar is not installed, or null for a bundle load/ takes. */
    String whyRefused(File jar) {
        String why = whyNotABundle(jar);
        if (why != null) {
            return "not a bundle: " + why + " (expected: an OSGi bundle jar)";
        }
        Manifest m;
        try (JarFile j = new JarFile(jar)) {
            m = j.getManifest();
        } catch (IOException | RuntimeException e) {
            return "not a bundle: it is not a readable jar (" + e.getMessage() + ") (expected: an OSGi bundle jar)";
        }
        String bad = badVersions(m);
        if (bad != null) {
            return bad;
        }
        String name = m.getMainAttributes().getValue("Bundle-SymbolicName").split(";", 2)[0].strip();
        String host = m.getMainAttributes().getValue("Fragment-Host");
        if (host != null) {
            String target = host.split(";", 2)[0].strip();
            if (target.equals("system.bundle") || target.equals("org.apache.felix.framework")) {
                return "a fragment of the framework (Fragment-Host: " + target + ") (expected: a bundle; a framework"
                        + " extension would change or stop the running framework)";
            }
            if (isRuntimes(target)) {
                return "a fragment of " + target + ", a bundle the runtime starts with (expected: a bundle; attaching"
                        + " to it would refresh it and the bundles wired to it, restarting every queue)";
            }
        }
        if (isRuntimes(name)) {
            return "its symbolic name " + name + " is the runtime's own bundle's (expected: a bundle of a name of its"
                    + " own; to change " + name + ", rebuild the runtime)";
        }
        return null;
    }

    /** What of the manifest's versions the framework would refuse with a stack trace, or null. */
    static String badVersions(Manifest m) {
        String mv = m.getMainAttributes().getValue("Bundle-ManifestVersion");
        if (mv != null && !mv.strip().equals("2")) {
            return "its Bundle-ManifestVersion is '" + oneLine(mv) + "' (expected: 2)";
        }
        String v = m.getMainAttributes().getValue("Bundle-Version");
        if (v != null) {
            try {
                Version.parseVersion(v.strip());
            } catch (IllegalArgumentException e) {
                return "its Bundle-Version '" + oneLine(v) + "' is not a version (expected: major.minor.micro.qualifier,"
                        + " e.g. 1.0.0)";
            }
        }
        for (String header : new String[] {"Import-Package", "Export-Package"}) {
            String h = m.getMainAttributes().getValue(header);
            java.util.regex.Matcher x = java.util.regex.Pattern.compile("version\\s*=\\s*(\"[^\"]*\"|[^;,]*)")
                    .matcher(h == null ? "" : h);
            while (x.find()) {
                String value = x.group(1).replace("\"", "").strip();
                try {
                    if (header.equals("Import-Package")) {
                        new VersionRange(value);
                    } else {
                        Version.parseVersion(value);
                    }
                } catch (IllegalArgumentException e) {
                    return "its " + header + " has version '" + oneLine(value) + "', which is not a version"
                            + (header.equals("Import-Package") ? " range (expected: e.g. [1.0,2)" : " (expected: e.g. 1.0.0")
                            + ")";
                }
            }
        }
        return null;
    }

    /** Whether a bundle of that symbolic name came with the runtime (bundle/), not from load/. */
    private boolean isRuntimes(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName()) && (b.getBundleId() == 0
                    || b.getLocation().contains("/bundle/"))) {
                return true;
            }
        }
        return false;
    }

    /** Null for a jar with a bundle manifest, else what is wrong with it. */
    static String whyNotABundle(File jar) {
        try (JarFile j = new JarFile(jar)) {
            Manifest m = j.getManifest();
            if (m == null) {
                return "the jar has no manifest";
            }
            if (m.getMainAttributes().getValue("Bundle-SymbolicName") == null) {
                return "its manifest has no Bundle-SymbolicName";
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return "it is not a readable jar (" + e.getMessage() + ")";
        }
    }
}

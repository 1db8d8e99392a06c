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
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import pagepool.api.config.ConfigReport;

/**
 * Decides which jars {@code load/} takes, and speaks for the ones it does not, which FileInstall
 * would pass over in silence or install to harm: a file named {@code .jar} that is not a readable
 * jar or has no bundle manifest; a fragment of the framework (an extension that changes or stops
 * it) or of a bundle the runtime starts with (attaching would refresh it and everything wired to
 * it); a bundle reusing the symbolic name of one the runtime starts with. Each is refused with one
 * line and listed by {@code pp:problems} until it is replaced or removed.
 */
@Component(service = ArtifactInstaller.class)
public final class LoadFolderCheck implements ArtifactInstaller {

    private final BundleContext context;
    private final Map<String, ConfigReport> refused = new ConcurrentHashMap<>();

    @Activate
    public LoadFolderCheck(BundleContext context) {
        this.context = context;
    }

    @Deactivate
    void deactivate() {
        refused.values().forEach(ConfigReport::close);
        refused.clear();
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

package pagepool.shell;

import java.io.File;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

import org.apache.felix.fileinstall.ArtifactInstaller;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import pagepool.api.config.ConfigReport;

/**
 * Speaks for the jars FileInstall would pass over in silence: a file in the watched folder named
 * {@code .jar} that is not a readable jar, or has no bundle manifest, is refused with one line
 * and listed by {@code pp:problems} until it is replaced by a bundle or removed.
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
        return artifact.getName().endsWith(".jar") && whyNotABundle(artifact) != null;
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
        String why = whyNotABundle(artifact);
        if (why == null) {
            uninstall(artifact);
            return;
        }
        refused.computeIfAbsent(artifact.getAbsolutePath(), k -> new ConfigReport(context)).refuse(artifact.getName(),
                "load folder", "not a bundle: " + why + " (expected: an OSGi bundle jar); nothing was installed");
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

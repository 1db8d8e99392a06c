package pagepool.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Third-party providers as a vendor builds and ships them: examples/provider-shm, and a project
 * made from the archetype (pagepool.archetype), each built on its own with Maven against the
 * released API (their tests run the conformance kit), the jar dropped into load/ of the runtime as
 * a user runs it, a queue bound to it, traffic verified on its pages.
 */
class ExampleProviderIT {

    private static final Path ROOT = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    @BeforeAll
    static void kitAndArchetypeInTheLocalRepository() throws Exception {
        // The reactor's verify installs nothing (the released API is installed by pagepool.api's own
        // build): the kit and the archetype go into the local repository as a vendor would get them.
        install(ROOT.resolve("pagepool.tck/target/pagepool.tck-0.1.0-SNAPSHOT.jar"), "pagepool.tck");
        install(ROOT.resolve("pagepool.archetype/target/pagepool.archetype-0.1.0-SNAPSHOT.jar"), "pagepool.archetype");
    }

    private static void install(Path jar, String artifactId) throws Exception {
        assertTrue(Files.isRegularFile(jar), "built before the runtime: " + jar);
        mvn(ROOT, "org.apache.maven.plugins:maven-install-plugin:3.1.4:install-file", "-Dfile=" + jar,
                "-DgroupId=io.pagepool", "-DartifactId=" + artifactId, "-Dversion=0.1.0-SNAPSHOT", "-Dpackaging=jar",
                "-DgeneratePom=true");
    }

    @Test
    void theExampleProviderBuiltOnItsOwnServesAQueueOfARunningRuntime() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/dev/shm")), "no /dev/shm for the example's files");
        Path example = ROOT.resolve("examples/provider-shm");
        String out = mvn(example, "clean", "package");
        assertTrue(out.contains("pagepool conformance: provider 'shm': 15 promises, 15 kept, 0 broken"), out);
        servesSim0Queue1(example.resolve("target/provider-shm-1.0.0.jar"), "shm");
    }

    @Test
    void aProviderMadeFromTheArchetypeBuildsKeepsEveryPromiseAndServesAQueue() throws Exception {
        mvn(tmp, "org.apache.maven.plugins:maven-archetype-plugin:3.3.1:generate", "-DinteractiveMode=false",
                "-DarchetypeGroupId=io.pagepool", "-DarchetypeArtifactId=pagepool.archetype",
                "-DarchetypeVersion=0.1.0-SNAPSHOT", "-DgroupId=com.acme", "-DartifactId=acme-provider",
                "-Dversion=1.0.0", "-Dpackage=com.acme.pagepool", "-DproviderName=acme", "-DclassName=AcmeProvider");
        Path project = tmp.resolve("acme-provider");
        assertTrue(Files.isRegularFile(project.resolve("src/main/java/com/acme/pagepool/AcmeProvider.java")),
                "the provider class in its package");
        String out = mvn(project, "package");
        assertTrue(out.contains("pagepool conformance: provider 'acme': 15 promises, 15 kept, 0 broken"), out);
        servesSim0Queue1(project.resolve("target/acme-provider-1.0.0.jar"), "acme");
    }

    /** The provider jar dropped into load/ of the runtime as a user runs it; sim0/1 bound to it, traffic verified. */
    private void servesSim0Queue1(Path jar, String provider) throws Exception {
        Path dist = Path.of(System.getProperty("pagepool.dist", "target/pagepool-runtime"));
        try (RunningRuntime rt = new RunningRuntime(dist, tmp.resolve("runtime"), "-Dfelix.fileinstall.poll=100")) {
            Files.copy(jar, rt.load(jar.getFileName().toString()));
            rt.await("the " + provider + " provider", () -> rt.text("pp:providers --json").contains("\"" + provider
                    + "\""));
            String bound = rt.text("pp:bind sim0 1 " + provider);
            assertTrue(bound.contains("APPLIED"), bound);
            rt.await("sim0/1 on " + provider, () -> rt.text("pp:queues").lines().anyMatch(l -> l.startsWith("sim0/1")
                    && l.contains(" " + provider + " ") && l.contains(" OK ")));
            long verified = verified(rt);
            rt.await("traffic verified on " + provider + " pages", () -> verified(rt) > verified + 1000);
            assertEquals("(none)", rt.text("pp:problems").lines().skip(1).findFirst().orElse("").strip());
            rt.text("pp:unbind sim0 1");
        }
    }

    /** sim0 queue 1's verified packets (pp:devstats: one column per queue). */
    private static long verified(RunningRuntime rt) {
        String line = rt.text("pp:devstats sim0").lines().filter(l -> l.startsWith("verified")).findFirst().orElse("");
        String[] f = line.trim().split("\\s+");
        return f.length > 2 ? Long.parseLong(f[2]) : 0;
    }

    /**
     * Runs Maven in {@code dir}: offline first (every plugin the example pins is one the reactor's
     * build fetched), online once if something was not fetched yet.
     */
    private static String mvn(Path dir, String... args) throws IOException, InterruptedException {
        String out = run(dir, true, args);
        return out != null ? out : run(dir, false, args);
    }

    private static String run(Path dir, boolean offline, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("mvn", "-B"));
        if (offline) {
            cmd.add("-o");
        }
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + ": no answer in 10 minutes");
        }
        if (p.exitValue() != 0) {
            if (offline) {
                return null; // something not fetched yet: online, once
            }
            throw new AssertionError(String.join(" ", cmd) + " failed:\n" + out);
        }
        return out;
    }
}

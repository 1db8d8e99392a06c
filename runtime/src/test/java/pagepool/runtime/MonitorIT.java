package pagepool.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pp:monitor in the runtime as a user runs it: a binding file applied and removed while it watches. */
class MonitorIT {

    @TempDir
    Path tmp;

    @Test
    void monitorPrintsPoolsAndQueuesChangingAsABindingComesAndGoes() throws Exception {
        Path dist = Path.of(System.getProperty("pagepool.dist", "target/pagepool-runtime"));
        try (RunningRuntime rt = new RunningRuntime(dist, tmp.resolve("runtime"), "-Dfelix.fileinstall.poll=100")) {
            rt.installExtra("provider.hugepage");
            rt.await("hugepage up", () -> rt.text("pp:providers --json").contains("\"hugepage\""));
            Thread edits = new Thread(() -> {
                try {
                    Thread.sleep(1000);
                    rt.write("pagepool.binding-mon.cfg", "device=sim0\nqueues=1\nprovider=hugepage\n");
                    Thread.sleep(1000);
                    rt.delete("pagepool.binding-mon.cfg");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            edits.start();
            RunningRuntime.Result r = rt.run("pp:monitor 4");
            edits.join();
            List<String> out = r.out();
            String all = String.join("\n", out);
            assertTrue(all.contains("queue sim0/1 on hugepage: swapped from 'heap'"), all);
            assertTrue(all.contains("queue sim0/1 on heap: swapped from 'hugepage'"), all);
            assertTrue(out.stream().anyMatch(l -> l.matches(".*pool \\d+ added: queue sim0/1, provider hugepage")), all);
            assertTrue(out.stream().anyMatch(l -> l.matches(".*pool \\d+ destroyed: queue sim0/1, provider hugepage")),
                    all);
            String last = out.get(out.size() - 1);
            assertEquals("monitor: " + (out.size() - 1) + " change(s)", last);
            assertEquals(List.of(), r.err().stream().filter(l -> l.startsWith("error")).toList());
        }
    }
}

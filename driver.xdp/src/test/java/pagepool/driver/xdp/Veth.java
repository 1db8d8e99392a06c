package pagepool.driver.xdp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A veth pair for a test, made with {@code ip link} and removed at close (removing one end
 * removes both). Needs root; {@link #unavailable} says why a test must be skipped instead.
 * No addresses: frames for driver.xdp never reach the stack, and nothing is routed.
 */
final class Veth implements AutoCloseable {

    final String receiver;
    final String sender;

    Veth(String prefix, int queues) throws IOException, InterruptedException {
        String tag = prefix + (ProcessHandle.current().pid() % 100000);
        this.receiver = tag + "r";
        this.sender = tag + "s";
        ip("link", "del", receiver); // a pair a killed run left behind
        String q = String.valueOf(queues);
        run(true, "ip", "link", "add", receiver, "numrxqueues", q, "numtxqueues", q, "type", "veth", "peer", "name",
                sender, "numrxqueues", q, "numtxqueues", q);
        run(true, "ip", "link", "set", receiver, "up");
        run(true, "ip", "link", "set", sender, "up");
    }

    /** Why AF_XDP tests cannot run here, or null. */
    static String unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "not root: veth pairs, XDP programs and AF_XDP sockets need CAP_NET_ADMIN and CAP_BPF";
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/ip")) && !Files.isExecutable(Path.of("/sbin/ip"))
                && !Files.isExecutable(Path.of("/usr/bin/ip"))) {
            return "no ip command (iproute2) to make a veth pair";
        }
        // Root in a container may still be denied bpf(2) (a seccomp profile) or AF_XDP.
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            pagepool.kit.linux.Libc libc = new pagepool.kit.linux.Libc(a);
            libc.close(new Bpf(a, libc).mapCreate(Bpf.MAP_TYPE_XSKMAP, 4, 4, 1, "pp_probe"));
            libc.close(libc.socket(Xsk.AF_XDP, Xsk.SOCK_RAW | Xsk.SOCK_CLOEXEC, 0));
        } catch (RuntimeException e) {
            return "XDP sockets or BPF maps are not available here: " + e.getMessage();
        }
        return null;
    }

    /** A pair, or the test skipped with the reason when the kernel will not make one. */
    static Veth orSkip(String prefix, int queues) throws InterruptedException {
        try {
            return new Veth(prefix, queues);
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("no veth pair here: " + e.getMessage());
            return null;
        }
    }

    /** {@code ip -d link show dev <receiver>}: shows {@code prog/xdp} while a program is attached. */
    String show() throws IOException, InterruptedException {
        return run(false, "ip", "-d", "link", "show", "dev", receiver);
    }

    private static String ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        return run(false, cmd.toArray(String[]::new));
    }

    private static String run(boolean check, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": no answer in 30 s");
        }
        if (check && p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + out.strip());
        }
        return out;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        ip("link", "del", receiver);
    }
}

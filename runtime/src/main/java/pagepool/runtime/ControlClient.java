package pagepool.runtime;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;

/**
 * {@code ./pagepool ctl}: sends commands to the runtime running in a folder, over its control
 * socket, and prints what they print, as the runtime's shell would, with its exit status.
 * Kept small on purpose (no framework, no OSGi): a command answers in tens of milliseconds.
 *
 * <pre>
 * pagepool ctl pp:bind sim0 1 heap        one command (the words joined as typed in the shell)
 * pagepool ctl -                          a script from standard input, one command per line
 * pagepool ctl -f FILE                    a script from a file
 * pagepool ctl --force ...                go on after a refusal (the status is still 1)
 * </pre>
 */
public final class ControlClient {

    private ControlClient() {
    }

    /** {@code args[0]}: the runtime folder; the rest as above. */
    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("pagepool ctl: usage: ControlClient <runtime folder> [--force] <command>|-|-f <file>");
            System.exit(ControlProtocol.REFUSED);
        }
        Path home = Path.of(args[0]);
        boolean force = false;
        int i = 1;
        if (i < args.length && args[i].equals("--force")) {
            force = true;
            i++;
        }
        Iterator<String> script;
        try {
            script = script(List.of(args).subList(i, args.length));
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("pagepool ctl: " + e.getMessage());
            System.exit(ControlProtocol.REFUSED);
            return;
        }
        System.exit(send(home, force, script, System.out, System.err));
    }

    private static Iterator<String> script(List<String> words) throws IOException {
        if (words.isEmpty()) {
            throw new IllegalArgumentException("nothing to send (expected: a command, e.g. 'pagepool ctl pp:queues',"
                    + " - for standard input, or -f <file>)");
        }
        if (words.size() == 1 && words.get(0).equals("-")) {
            return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).lines().iterator();
        }
        if (words.get(0).equals("-f")) {
            if (words.size() != 2) {
                throw new IllegalArgumentException("-f: " + words.subList(1, words.size())
                        + " (expected: one script file)");
            }
            return Files.readAllLines(Path.of(words.get(1))).iterator();
        }
        return List.of(String.join(" ", words)).iterator();
    }

    /**
     * Sends the script to the runtime in {@code home}, copying what it prints to {@code out} and
     * {@code err} as it comes; returns the exit status ({@link ControlProtocol}), 2 when no
     * runtime answers there.
     */
    static int send(Path home, boolean force, Iterator<String> script, PrintStream out, PrintStream err) {
        Path socket = ControlProtocol.socket(home);
        SocketChannel ch;
        try {
            ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            err.println("pagepool ctl: no runtime answers in " + home + " (" + socket + ": " + e.getMessage()
                    + "); start one with ./pagepool or ./pagepool --daemon");
            return ControlProtocol.REFUSED;
        }
        try (ch) {
            // The script is written while the answers are read: a long script from a pipe streams.
            Thread writer = new Thread(() -> write(ch, force, script, err), "pagepool-ctl-writer");
            writer.setDaemon(true);
            writer.start();
            DataInputStream in = new DataInputStream(Channels.newInputStream(ch));
            while (true) {
                ControlProtocol.Frame f = ControlProtocol.read(in);
                switch (f.type()) {
                    case ControlProtocol.OUT -> out.write(f.payload(), 0, f.payload().length);
                    case ControlProtocol.ERR -> err.write(f.payload(), 0, f.payload().length);
                    case ControlProtocol.EXIT -> {
                        out.flush();
                        err.flush();
                        return f.status();
                    }
                    default -> throw new IOException("bad frame type " + f.type() + " from the runtime");
                }
                out.flush();
                err.flush();
            }
        } catch (IOException e) {
            err.println("pagepool ctl: the runtime in " + home + " stopped answering: " + e.getMessage());
            return ControlProtocol.REFUSED;
        }
    }

    private static void write(SocketChannel ch, boolean force, Iterator<String> script, PrintStream err) {
        try {
            OutputStream o = new BufferedOutputStream(Channels.newOutputStream(ch));
            o.write((ControlProtocol.HEADER + (force ? ControlProtocol.FORCE : "") + "\n").getBytes(
                    StandardCharsets.UTF_8));
            while (script.hasNext()) {
                String line = script.next();
                if (line.isBlank()) {
                    continue; // an empty line would end the script
                }
                o.write((line.replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8));
                o.flush();
            }
            o.write('\n');
            o.flush();
        } catch (IOException | java.io.UncheckedIOException e) {
            // the runtime closed the connection; its last frames say why
        }
    }
}

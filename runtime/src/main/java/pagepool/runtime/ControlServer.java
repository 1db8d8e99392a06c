package pagepool.runtime;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The running runtime's control socket, as netlink is the kernel's: {@code run/control.sock} in
 * the runtime folder, reached by {@code ./pagepool ctl} and by {@code --exec} when an instance runs
 * there. Each connection gets a shell session of its own; what a command prints goes back as it
 * would to the console (wire format: {@link ControlProtocol}).
 *
 * <p>Who may connect: the folder {@code run/} is 0700 and the socket 0600, and the peer's
 * credentials (SO_PEERCRED) must name the runtime's own user or root, so a misconfigured mode
 * still lets no other user in. A same-user process can do what the user can; what it cannot do is
 * take the runtime's threads for long: at most {@link #MAX_CLIENTS} connections, each dropped
 * after {@link #IDLE_SECONDS} s without a command (a running command, {@code pp:monitor}
 * included, is not idle). Refusals are said to the client in one line and logged.
 */
final class ControlServer implements AutoCloseable {

    static final int MAX_CLIENTS = 8;
    static final long IDLE_SECONDS = 30;
    private static final Logger LOG = Logger.getLogger("pagepool.control");
    /** Queue markers: the script's end, and the client gone before it. */
    private static final String END = new String("end");
    private static final String GONE = new String("gone");

    private final Path socket;
    private final GogoShell shell;
    private final ServerSocketChannel server;
    private final UserPrincipal owner;
    private final Semaphore slots = new Semaphore(MAX_CLIENTS);
    private final Thread acceptor;
    private volatile boolean closed;

    /** Told of every refusal, by kind (peer, busy, request, line), to list it where operators look. */
    interface Refusals {
        void refused(String kind, String why);
    }

    private final Refusals refusals;

    private ControlServer(Path socket, GogoShell shell, ServerSocketChannel server, UserPrincipal owner,
            Refusals refusals) {
        this.refusals = refusals;
        this.socket = socket;
        this.shell = shell;
        this.server = server;
        this.owner = owner;
        this.acceptor = new Thread(this::acceptLoop, "pagepool-control");
        acceptor.setDaemon(true);
    }

    /**
     * Listens in {@code home}; a socket file left there is stale (the caller holds the instance
     * lock) and replaced.
     */
    static ControlServer start(Path home, GogoShell shell, Refusals refusals) throws IOException {
        Path socket = ControlProtocol.socket(home);
        Path dir = socket.getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                    "rwx------")));
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket), MAX_CLIENTS);
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        ControlServer s = new ControlServer(socket, shell, server, Files.getOwner(socket), refusals);
        s.acceptor.start();
        return s;
    }

    Path socket() {
        return socket;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "control socket: accept failed: " + e.getMessage(), e);
                continue;
            }
            // Whatever a connection does, this thread only accepts: everything else is the handler's.
            try {
                String refusal = refusal(ch);
                if (refusal != null) {
                    LOG.warning("control socket: refused a connection: " + refusal);
                    refused(refusal.startsWith("user ") || refusal.startsWith("the peer") ? "peer" : "busy", refusal);
                    refuse(ch, refusal);
                    continue;
                }
                Thread t = new Thread(() -> {
                    try {
                        serve(ch);
                    } finally {
                        slots.release();
                    }
                }, "pagepool-control-client");
                t.setDaemon(true);
                t.start();
            } catch (RuntimeException | Error e) {
                LOG.log(Level.WARNING, "control socket: a connection failed: " + e, e);
                closeQuietly(ch);
            }
        }
    }

    /** Why a new connection may not be served, or null; takes a slot when it may. */
    private String refusal(SocketChannel ch) {
        try {
            UnixDomainPrincipal peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
            if (!peer.user().equals(owner) && !peer.user().getName().equals("root")) {
                return "user " + peer.user().getName() + " (expected: " + owner.getName() + ", the runtime's user"
                        + (owner.getName().equals("root") ? ")" : ", or root)");
            }
        } catch (IOException | UnsupportedOperationException e) {
            return "the peer's credentials could not be read (" + e.getMessage() + ")";
        }
        if (!slots.tryAcquire()) {
            return MAX_CLIENTS + " clients connected already (expected: at most " + MAX_CLIENTS
                    + "; close one, or wait for its command to end)";
        }
        return null;
    }

    private static void refuse(SocketChannel ch, String why) {
        try (ch) {
            DataOutputStream out = new DataOutputStream(Channels.newOutputStream(ch));
            byte[] line = ("pagepool: control socket: " + why + "\n").getBytes(StandardCharsets.UTF_8);
            ControlProtocol.frame(out, ControlProtocol.ERR, line, 0, line.length);
            ControlProtocol.exit(out, ControlProtocol.REFUSED);
        } catch (IOException e) {
            // the client went already
        }
    }

    /** One client: its lines read on a thread of their own, so that its leaving cancels what runs. */
    private void serve(SocketChannel ch) {
        Thread runner = Thread.currentThread();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>(64);
        Thread reader = new Thread(() -> read(ch, lines, runner, this::refused), "pagepool-control-reader");
        reader.setDaemon(true);
        reader.start();
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch), 8192));
        try (ch) {
            String header = lines.poll(IDLE_SECONDS, TimeUnit.SECONDS);
            if (header == null || header == END || header == GONE || !header.startsWith(ControlProtocol.HEADER)) {
                String why = "request: " + (header == null ? "nothing within " + IDLE_SECONDS
                        + " s" : header == END || header == GONE ? "empty" : "'" + clip(header) + "'")
                        + " (expected: the line '" + ControlProtocol.HEADER + "', then commands)";
                refused("request", why);
                say(out, "pagepool: control socket: " + why);
                ControlProtocol.exit(out, ControlProtocol.REFUSED);
                return;
            }
            boolean force = header.equals(ControlProtocol.HEADER + ControlProtocol.FORCE);
            ControlProtocol.exit(out, run(lines, out, force));
        } catch (InterruptedException e) {
            // the client went: what ran is cancelled, nobody is left to tell
        } catch (IOException e) {
            LOG.fine("control socket: client gone: " + e.getMessage());
        } finally {
            reader.interrupt();
            Thread.interrupted(); // the reader's last word may come after the end: not this thread's next job
        }
    }

    /** Runs the commands as they come; the exit status. */
    private int run(BlockingQueue<String> lines, DataOutputStream out, boolean force)
            throws InterruptedException, IOException {
        PrintStream stdout = new PrintStream(new FrameStream(out, ControlProtocol.OUT), true, StandardCharsets.UTF_8);
        PrintStream stderr = new PrintStream(new FrameStream(out, ControlProtocol.ERR), true, StandardCharsets.UTF_8);
        int status = ControlProtocol.OK;
        try (GogoShell.Session session = shell.open(InputStream.nullInputStream(), stdout, stderr)) {
            while (true) {
                String line = lines.poll(IDLE_SECONDS, TimeUnit.SECONDS);
                if (line == null) {
                    stderr.println("pagepool: control socket: no command for " + IDLE_SECONDS + " s; closing");
                    return ControlProtocol.REFUSED;
                }
                if (line == GONE) {
                    throw new InterruptedException("client gone");
                }
                if (line == END) {
                    return status;
                }
                String command = line.strip();
                if (command.isEmpty() || (status != ControlProtocol.OK && !force)) {
                    continue; // after a refusal the rest of the script is read, not run (ip -batch)
                }
                try {
                    Object result = session.execute(command);
                    if (result != null) {
                        stdout.println(result);
                    }
                } catch (GogoShell.Failure e) {
                    stderr.println("error: " + e.getMessage());
                    status = ControlProtocol.FAILED;
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException("client gone");
                }
                stdout.flush();
                stderr.flush();
            }
        }
    }

    private static void read(SocketChannel ch, BlockingQueue<String> lines, Thread runner, Refusals refusals) {
        String last = GONE;
        try {
            InputStream in = new BufferedInputStream(Channels.newInputStream(ch));
            for (String line; (line = ControlProtocol.readLine(in)) != null;) {
                if (line.isEmpty()) {
                    last = END;
                    break;
                }
                lines.put(line);
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("line: ")) {
                LOG.warning("control socket: refused a client: " + e.getMessage());
                refusals.refused("line", e.getMessage());
            } else {
                LOG.fine("control socket: " + e.getMessage());
            }
        } catch (InterruptedException e) {
            return; // the connection is over
        }
        try {
            lines.put(last);
        } catch (InterruptedException e) {
            return;
        }
        if (last == GONE) {
            runner.interrupt(); // cancels the command running, e.g. a pp:monitor left with Ctrl-C
        }
    }

    /** A refusal for the operator's lists; what the listener throws is not the client's concern. */
    private void refused(String kind, String why) {
        try {
            refusals.refused(kind, why);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "control socket: listing a refusal failed", e);
        }
    }

    private static void say(DataOutputStream out, String line) throws IOException {
        byte[] b = (line + "\n").getBytes(StandardCharsets.UTF_8);
        ControlProtocol.frame(out, ControlProtocol.ERR, b, 0, b.length);
    }

    private static String clip(String s) {
        String t = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return t.replaceAll("\\p{Cntrl}", "?");
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        Files.deleteIfExists(socket);
    }

    /** A session's stream: every write one frame of its type. */
    private static final class FrameStream extends OutputStream {
        private final DataOutputStream out;
        private final byte type;

        FrameStream(DataOutputStream out, byte type) {
            this.out = out;
            this.type = type;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return;
            }
            synchronized (out) {
                ControlProtocol.frame(out, type, b, off, len);
            }
        }
    }
}

package pagepool.runtime;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * The control socket's wire format, shared by {@link ControlServer} and {@link ControlClient}.
 *
 * <p>Client to runtime: a header line {@code pagepool-ctl 1} (with {@code  force}: go on after a
 * refusal), then one shell command per line (UTF-8, at most {@link #MAX_LINE} bytes), then an
 * empty line that ends the script. Commands run as they arrive, so a script read from a pipe is
 * answered line by line. Closing the connection before the empty line cancels the command
 * running (a {@code pp:monitor} left with Ctrl-C).
 *
 * <p>Runtime to client: frames of a type byte, a 4-byte length and the payload: {@code 'O'} bytes
 * of standard output, {@code 'E'} bytes of standard error, and last {@code 'X'} with the exit
 * status as a 4-byte int: 0 all commands succeeded, 1 a command was refused or failed, 2 the
 * runtime refused the connection or the request (said in an {@code 'E'} frame first).
 */
final class ControlProtocol {

    static final String HEADER = "pagepool-ctl 1";
    static final String FORCE = " force";
    static final int MAX_LINE = 64 * 1024;
    static final byte OUT = 'O';
    static final byte ERR = 'E';
    static final byte EXIT = 'X';
    static final int OK = 0;
    static final int FAILED = 1;
    static final int REFUSED = 2;

    /** Where a runtime in {@code home} listens: a socket in a folder only its user may enter. */
    static Path socket(Path home) {
        return home.resolve("run").resolve("control.sock");
    }

    private ControlProtocol() {
    }

    static void frame(DataOutputStream out, byte type, byte[] payload, int off, int len) throws IOException {
        out.writeByte(type);
        out.writeInt(len);
        out.write(payload, off, len);
        out.flush();
    }

    static void exit(DataOutputStream out, int status) throws IOException {
        out.writeByte(EXIT);
        out.writeInt(4);
        out.writeInt(status);
        out.flush();
    }

    /** One frame read: its type and payload. */
    record Frame(byte type, byte[] payload) {
        int status() {
            return ((payload[0] & 0xff) << 24) | ((payload[1] & 0xff) << 16) | ((payload[2] & 0xff) << 8)
                    | (payload[3] & 0xff);
        }
    }

    static Frame read(DataInputStream in) throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("the runtime closed the connection");
        }
        int len = in.readInt();
        if (len < 0 || len > 16 << 20 || (type == EXIT && len != 4)) {
            throw new IOException("bad frame from the runtime: type " + type + ", length " + len);
        }
        return new Frame((byte) type, in.readNBytes(len));
    }

    /**
     * One line of at most {@link #MAX_LINE} bytes, without its newline; null at the end of the
     * stream, where a line cut short is dropped (its sender went away); an {@link IOException}
     * for a longer line.
     */
    static String readLine(InputStream in) throws IOException {
        byte[] buf = new byte[256];
        int n = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            if (b == '\n') {
                return new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8);
            }
            if (n == MAX_LINE) {
                throw new IOException("line: more than " + MAX_LINE + " bytes (expected: one command per line)");
            }
            if (n == buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.min(MAX_LINE, buf.length * 2));
            }
            buf[n++] = (byte) b;
        }
    }
}

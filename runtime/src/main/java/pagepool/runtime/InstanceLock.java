package pagepool.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One runtime per folder: an exclusive lock on {@code pagepool.lock}, taken before the framework
 * touches its cache (whose first init wipes it), holding the owner's pid. The kernel drops the
 * lock when the process dies, however it dies, so a stale file never blocks a new start.
 */
final class InstanceLock implements AutoCloseable {

    static final String FILE = "pagepool.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private InstanceLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** The lock, or null when another process holds it ({@link #holder} says which). */
    static InstanceLock tryAcquire(Path home) throws IOException {
        FileChannel ch = FileChannel.open(home.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (l == null) {
            ch.close();
            return null;
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        ch.force(false);
        return new InstanceLock(ch, l);
    }

    /** "pid 1234" of the process holding the lock, or "pid unknown" while it is still writing it. */
    static String holder(Path home) {
        try {
            String pid = Files.readString(home.resolve(FILE), StandardCharsets.US_ASCII).strip();
            return pid.matches("[0-9]{1,10}") ? "pid " + pid : "pid unknown";
        } catch (IOException e) {
            return "pid unknown";
        }
    }

    @Override
    public void close() throws IOException {
        lock.release();
        channel.close();
    }
}

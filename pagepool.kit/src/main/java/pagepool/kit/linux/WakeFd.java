package pagepool.kit.linux;

/**
 * The eventfd other threads wake a queue's thread with. Its number is read for a wake and given up
 * at close under one lock: a wake racing the close either writes before the close or not at all,
 * never into whatever file reuses the number afterwards.
 */
public final class WakeFd {

    /** The system calls it makes: writing the counter, closing the descriptor. */
    public interface Ops {
        void signal(int fd);

        void close(int fd);
    }

    private final Ops ops;
    private int fd;

    /**
     * An eventfd woken and closed through {@code libc}, an instance other threads share: each call
     * holds its lock (its scratch memory is shared).
     */
    public static WakeFd through(int fd, Libc libc) {
        return new WakeFd(fd, new Ops() {
            @Override
            public void signal(int eventfd) {
                synchronized (libc) {
                    libc.signal(eventfd);
                }
            }

            @Override
            public void close(int eventfd) {
                synchronized (libc) {
                    libc.close(eventfd);
                }
            }
        });
    }

    public WakeFd(int fd, Ops ops) {
        this.fd = fd;
        this.ops = ops;
    }

    /** @return false once closed: nothing was written */
    public synchronized boolean signal() {
        if (fd < 0) {
            return false;
        }
        ops.signal(fd);
        return true;
    }

    public synchronized void close() {
        if (fd >= 0) {
            int f = fd;
            fd = -1;
            ops.close(f);
        }
    }
}

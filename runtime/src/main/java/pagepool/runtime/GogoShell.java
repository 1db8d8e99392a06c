package pagepool.runtime;

import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Gogo's CommandProcessor as the launcher sees it: through reflection, since Gogo's classes live
 * in its bundle and the launcher's class path holds the framework alone. One place for
 * {@code --exec} and the control socket to run commands the way the interactive shell does.
 */
final class GogoShell {

    /** A command that failed: its message, as the shell would print it. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message, null, false, false);
        }
    }

    /** One shell session: its variables and streams live until it is closed. */
    final class Session implements AutoCloseable {
        private final Object session;

        private Session(Object session) {
            this.session = session;
        }

        /** Runs one command line; returns what it printed as its result, or null. */
        Object execute(String command) throws Failure {
            try {
                return execute.invoke(session, command);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                throw new Failure(cause.getMessage() == null ? cause.toString() : cause.getMessage());
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() {
            try {
                close.invoke(session);
            } catch (ReflectiveOperationException e) {
                // closed already; nothing is left open
            }
        }
    }

    private final Object processor;
    private final Method createSession;
    private final Method execute;
    private final Method close;

    private GogoShell(Object processor) throws NoSuchMethodException {
        this.processor = processor;
        Method create = null;
        for (Method m : processor.getClass().getMethods()) {
            if (m.getName().equals("createSession") && m.getParameterCount() == 3) {
                create = m;
            }
        }
        if (create == null) {
            throw new IllegalStateException("Gogo's CommandProcessor has no createSession(in, out, err)");
        }
        this.createSession = create;
        Class<?> sessionType = create.getReturnType();
        this.execute = sessionType.getMethod("execute", CharSequence.class);
        this.close = sessionType.getMethod("close");
    }

    /** Waits up to {@code millis} for Gogo's CommandProcessor. */
    static GogoShell await(BundleContext ctx, long millis) throws InterruptedException, NoSuchMethodException {
        Object p = awaitService(ctx, "org.apache.felix.service.command.CommandProcessor", millis);
        if (p == null) {
            throw new IllegalStateException("Gogo's CommandProcessor did not come up within " + millis
                    + " ms: is org.apache.felix.gogo.runtime in bundle/?");
        }
        return new GogoShell(p);
    }

    Session open(InputStream in, PrintStream out, PrintStream err) {
        try {
            return new Session(createSession.invoke(processor, in, out, err));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Gogo did not open a session: " + e, e);
        }
    }

    /** A service of the type named, waited for up to {@code millis}; null if none came. */
    static Object awaitService(BundleContext ctx, String type, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            ServiceReference<?> ref = ctx.getServiceReference(type);
            if (ref != null) {
                Object service = ctx.getService(ref);
                if (service != null) {
                    return service;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                return null;
            }
            Thread.sleep(10);
        }
    }
}

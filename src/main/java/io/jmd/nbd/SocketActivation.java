package io.jmd.nbd;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.Channel;
import java.util.Map;

/**
 * systemd socket activation (sd_listen_fds(3)), which is how libnbd runs a server captive
 * ({@code nbdinfo [ jmd serve ... ]}, nbd_connect_systemd_socket_activation): the parent binds
 * a socket, and the child finds it as file descriptor 3 with {@code LISTEN_PID} set to the
 * child's pid and {@code LISTEN_FDS} to the count (libnbd passes one unix listening socket; it
 * may also set {@code LISTEN_FDNAMES}, which we do not need).
 *
 * <p>Java cannot wrap a raw file descriptor in a channel; it can only wrap descriptor 0, through
 * {@link System#inheritedChannel()}. So we move descriptor 3 onto 0 with dup2(2) (through the
 * FFM API), close 3, and ask for the inherited channel: a ServerSocketChannel for a listening
 * socket (TCP or unix), or a SocketChannel for an accepted one (systemd's Accept=yes). This must
 * happen before anything else calls {@code System.inheritedChannel()}, which caches its answer,
 * and it gives up stdin, which a server started this way does not use.
 */
public final class SocketActivation {
    public static final int FIRST_FD = 3;

    private SocketActivation() {
    }

    /**
     * How many descriptors were passed to process {@code pid} according to {@code environment}:
     * 0 unless LISTEN_PID names this process and LISTEN_FDS is a positive number.
     */
    public static int passedFds(Map<String, String> environment, long pid) {
        String listenPid = environment.get("LISTEN_PID");
        String listenFds = environment.get("LISTEN_FDS");
        if (listenPid == null || listenFds == null) {
            return 0;
        }
        try {
            if (Long.parseLong(listenPid.trim()) != pid) {
                return 0; // meant for another process (a wrapper that did not exec us)
            }
            int n = Integer.parseInt(listenFds.trim());
            return Math.max(n, 0);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Whether this process was socket-activated. */
    public static boolean isActivated() {
        return passedFds(System.getenv(), ProcessHandle.current().pid()) > 0;
    }

    /**
     * The channel of descriptor 3: a ServerSocketChannel (accept on it) or a SocketChannel (one
     * connection). Throws if this process was not socket-activated.
     */
    public static Channel inheritFirst() throws IOException {
        int n = passedFds(System.getenv(), ProcessHandle.current().pid());
        if (n < 1) {
            throw new IOException("not socket-activated: LISTEN_PID/LISTEN_FDS do not name this process");
        }
        dup2(FIRST_FD, 0);
        close(FIRST_FD);
        Channel c = System.inheritedChannel();
        if (c == null) {
            throw new IOException("descriptor " + FIRST_FD + " is not a stream socket");
        }
        return c;
    }

    private static final Linker LINKER = Linker.nativeLinker();

    private static MethodHandle libc(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name)
            .orElseThrow(() -> new UnsupportedOperationException("libc has no " + name)), descriptor);
    }

    private static void dup2(int from, int to) throws IOException {
        MethodHandle h = libc("dup2", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        int r;
        try {
            r = (int) h.invokeExact(from, to);
        } catch (Throwable t) {
            throw new IOException("dup2 failed", t);
        }
        if (r != to) {
            throw new IOException("dup2(" + from + ", " + to + ") failed: is descriptor " + from + " open?");
        }
    }

    private static void close(int fd) throws IOException {
        MethodHandle h = libc("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        try {
            int ignored = (int) h.invokeExact(fd);
        } catch (Throwable t) {
            throw new IOException("close failed", t);
        }
    }
}

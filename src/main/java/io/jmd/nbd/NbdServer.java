package io.jmd.nbd;

import io.jmd.Env;
import io.jmd.block.BlockDevice;
import io.jmd.block.SyncIo;
import io.jmd.sync.Completion;
import io.jmd.sync.CountedResource;
import io.jmd.sync.JmdThread;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.WaitQueue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An NBD server exporting {@link BlockDevice}s (md arrays, files, memory) to unmodified clients.
 *
 * <pre>{@code
 * NbdServer server = NbdServer.builder(env)
 *     .export("md0", "RAID-1 of sda1 sdb1", array, false)
 *     .listenTcp("127.0.0.1", 10809)          // and/or .listenUnix(path), .serveStdio(), .socketActivation()
 *     .start();
 * server.awaitTermination();                   // returns after close(), or when stdio's client left
 * server.close();                              // stop accepting, finish in-flight, flush exports
 * }</pre>
 *
 * Threads: one accept thread per listening socket (no I/O role), two per connection (CLIENT
 * role): see {@link Connection}. Bounds: {@link NbdLimits}.
 */
public final class NbdServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NbdServer.class.getName());

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 10809;
    /** After a failed accept (out of descriptors, say), wait this long before the next. */
    static final long ACCEPT_RETRY_NANOS = 100_000_000L;

    private final Env env;
    private final ExportTable exports;
    private final NbdLimits limits;
    private final List<Endpoint> endpoints;
    private final CountedResource serverSlots;

    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    /** Single-connection transports (stdio, an accepted inherited socket, given ones) still open. */
    private final AtomicInteger singleConnectionsLeft = new AtomicInteger();
    private final List<SocketListener> listeners = new CopyOnWriteArrayList<>();
    private final List<JmdThread> acceptThreads = new CopyOnWriteArrayList<>();
    private final AtomicLong nextConnectionId = new AtomicLong(1);
    /** Woken when connections come and go and when the server closes. */
    private final WaitQueue changed;
    private final Completion closedDone;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean shuttingDown;

    private NbdServer(Builder b) {
        this.env = b.env;
        this.exports = new ExportTable(b.exports);
        this.limits = b.limits;
        this.endpoints = List.copyOf(b.endpoints);
        this.serverSlots = new CountedResource(env.scheduler(), "nbd server request slots", limits.requestsTotal());
        this.changed = new WaitQueue(env.scheduler(), "nbd server connections");
        this.closedDone = new Completion(env.scheduler(), "nbd server closed");
    }

    public static Builder builder(Env env) {
        return new Builder(env);
    }

    /** Opens every endpoint and starts serving; throws (having opened nothing) if one fails. */
    public NbdServer start() throws IOException {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("server already started");
        }
        checkBudget();
        List<Runnable> launches = new ArrayList<>();
        try {
            for (Endpoint e : endpoints) {
                launches.add(open(e));
            }
        } catch (IOException | RuntimeException e) {
            closeListeners();
            throw e;
        }
        launches.forEach(Runnable::run);
        return this;
    }

    private void checkBudget() {
        long shared = env.budget().totalBytes() - env.budget().reservedBytes();
        if (shared < limits.maxPayloadBytes() + NbdLimits.BLOCK_STATUS_BUFFER_BYTES) {
            throw new IllegalStateException("memory budget " + env.budget() + " cannot hold one NBD payload of "
                + limits.maxPayloadBytes() + " bytes; raise the budget or lower the maximum payload");
        }
    }

    /** Opens one endpoint; returns what starts serving it, run once every endpoint opened. */
    private Runnable open(Endpoint e) throws IOException {
        return switch (e) {
            case Endpoint.Tcp t -> listening(SocketListener.tcp(t.address()));
            case Endpoint.Unix u -> listening(SocketListener.unix(u.path()));
            case Endpoint.Stdio s -> single(Stdio.open());
            case Endpoint.Given g -> single(g.transport());
            case Endpoint.Activation a -> {
                int passed = SocketActivation.passedFds(System.getenv(), ProcessHandle.current().pid());
                if (passed > 1) {
                    LOG.log(System.Logger.Level.WARNING, () -> "nbd: " + passed + " sockets passed (LISTEN_FDS); serving the first");
                }
                Channel c = SocketActivation.inheritFirst();
                if (c instanceof ServerSocketChannel ssc) {
                    yield listening(SocketListener.inherited(ssc));
                }
                if (c instanceof SocketChannel sc) {
                    yield single(ChannelTransport.of(sc));
                }
                throw new IOException("socket activation passed an unusable channel: " + c);
            }
        };
    }

    private Runnable listening(SocketListener l) {
        listeners.add(l);
        LOG.log(System.Logger.Level.INFO, () -> "nbd: listening on " + l + " for " + exportNames());
        return () -> acceptThreads.add(env.scheduler().start("nbd-accept " + l, EnumSet.noneOf(ThreadRole.class),
            () -> acceptLoop(l)));
    }

    private Runnable single(NbdTransport t) {
        singleConnectionsLeft.incrementAndGet();
        return () -> spawn(t, true);
    }

    private void acceptLoop(SocketListener l) {
        while (!shuttingDown) {
            changed.waitUntil(() -> shuttingDown || connections.size() < limits.maxConnections());
            if (shuttingDown) {
                return;
            }
            SocketChannel s;
            try {
                s = l.accept();
            } catch (IOException e) {
                if (shuttingDown || !l.isOpen()) {
                    return;
                }
                LOG.log(System.Logger.Level.WARNING, () -> "nbd: accept on " + l + " failed: " + e);
                changed.waitUntil(() -> shuttingDown, ACCEPT_RETRY_NANOS);
                continue;
            }
            try {
                spawn(ChannelTransport.of(s), false);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, () -> "nbd: cannot set up connection: " + e);
                closeQuietly(s);
            }
        }
    }

    private void spawn(NbdTransport t, boolean single) {
        Connection c = new Connection(this, t, nextConnectionId.getAndIncrement(), single);
        connections.add(c);
        c.start();
    }

    /** Called by a connection's last thread when it ended. */
    void connectionEnded(Connection c) {
        connections.remove(c);
        if (c.isSingle()) {
            singleConnectionsLeft.decrementAndGet();
        }
        changed.wakeAll();
    }

    /**
     * Waits until the server has nothing left to serve: after {@link #close()}, or once every
     * single-connection transport (stdio, say) ended when there is no listening socket.
     */
    public void awaitTermination() {
        changed.waitUntil(this::terminated);
    }

    /** Like {@link #awaitTermination()}, at most {@code timeoutNanos}; true if terminated. */
    public boolean awaitTermination(long timeoutNanos) {
        return changed.waitUntil(this::terminated, timeoutNanos);
    }

    private boolean terminated() {
        return closedDone.isDone()
            || (started.get() && listeners.isEmpty() && singleConnectionsLeft.get() == 0 && connections.isEmpty());
    }

    /**
     * Graceful shutdown: stop accepting, stop reading requests, let in-flight requests finish and
     * their replies go out (up to {@link NbdLimits#shutdownTimeoutNanos}, then sockets are
     * closed), then flush every export. Idempotent; a second caller waits for the first.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            closedDone.await();
            return;
        }
        shuttingDown = true;
        closeListeners();
        changed.wakeAll();
        for (JmdThread t : acceptThreads) {
            env.scheduler().join(t);
        }
        List<Connection> live = List.copyOf(connections);
        live.forEach(Connection::stopReading);
        long deadline = env.clock().nanoTime() + limits.shutdownTimeoutNanos();
        for (Connection c : live) {
            if (!c.awaitFinished(Math.max(0, deadline - env.clock().nanoTime()))) {
                LOG.log(System.Logger.Level.WARNING, () -> "nbd: " + c.name() + " did not finish in time; closing it");
                c.abort();
            }
        }
        for (Connection c : live) {
            c.awaitFinished(Long.MAX_VALUE);
            c.join();
        }
        flushExports();
        closedDone.complete(0);
        changed.wakeAll();
    }

    private void flushExports() {
        for (Export e : exports.all()) {
            if (e.readOnly) {
                continue;
            }
            int r = SyncIo.flush(env.scheduler(), e.device);
            if (r != 0) {
                LOG.log(System.Logger.Level.ERROR, () -> "nbd: final flush of " + e + " failed: errno " + r);
            }
        }
    }

    private void closeListeners() {
        for (SocketListener l : listeners) {
            try {
                l.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, () -> "nbd: closing " + l + ": " + e);
            }
        }
        listeners.clear();
    }

    private static void closeQuietly(SocketChannel s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    private List<String> exportNames() {
        return exports.all().stream().map(x -> x.name).toList();
    }

    /** Bound addresses of the listening sockets (resolves port 0 to the chosen port). */
    public List<SocketAddress> addresses() {
        return listeners.stream().map(SocketListener::address).toList();
    }

    /** The port of the first TCP listener, or -1. */
    public int tcpPort() {
        for (SocketAddress a : addresses()) {
            if (a instanceof InetSocketAddress i) {
                return i.getPort();
            }
        }
        return -1;
    }

    /** Connections open now (in handshake or transmission). */
    public int connectionCount() {
        return connections.size();
    }

    // ---- for connections ----

    Env env() {
        return env;
    }

    ExportTable exports() {
        return exports;
    }

    NbdLimits limits() {
        return limits;
    }

    CountedResource serverSlots() {
        return serverSlots;
    }

    boolean isShuttingDown() {
        return shuttingDown;
    }

    /** Live connections (tests). */
    List<Connection> connections() {
        return List.copyOf(connections);
    }

    /** Where the server takes connections from. */
    private sealed interface Endpoint {
        record Tcp(InetSocketAddress address) implements Endpoint {
        }

        record Unix(Path path) implements Endpoint {
        }

        record Stdio() implements Endpoint {
        }

        record Activation() implements Endpoint {
        }

        record Given(NbdTransport transport) implements Endpoint {
        }
    }

    /** Collects exports, endpoints and limits; {@link #start()} builds and starts the server. */
    public static final class Builder {
        private final Env env;
        private final List<Export> exports = new ArrayList<>();
        private final List<Endpoint> endpoints = new ArrayList<>();
        private NbdLimits limits = NbdLimits.defaults();

        private Builder(Env env) {
            this.env = env;
        }

        /**
         * Adds an export. The first one added is also the default export (the empty name).
         * {@code description} may be null; names and descriptions are at most 4096 UTF-8 bytes.
         */
        public Builder export(String name, String description, BlockDevice device, boolean readOnly) {
            exports.add(new Export(name, description, device, readOnly, limits.maxPayloadBytes()));
            return this;
        }

        /** Replaces the limits; call before {@link #export} if you change the maximum payload. */
        public Builder limits(NbdLimits limits) {
            if (!exports.isEmpty() && limits.maxPayloadBytes() != this.limits.maxPayloadBytes()) {
                throw new IllegalStateException("set limits before adding exports");
            }
            this.limits = limits;
            return this;
        }

        /** Listens on TCP {@code host}:{@code port} (port 0: any free port; see {@link #tcpPort()}). */
        public Builder listenTcp(String host, int port) {
            endpoints.add(new Endpoint.Tcp(new InetSocketAddress(host, port)));
            return this;
        }

        /** Listens on the NBD default, 127.0.0.1:10809. */
        public Builder listenTcp() {
            return listenTcp(DEFAULT_HOST, DEFAULT_PORT);
        }

        /** Listens on a unix socket at {@code path} (a stale socket there is replaced; removed on close). */
        public Builder listenUnix(Path path) {
            endpoints.add(new Endpoint.Unix(path));
            return this;
        }

        /** Serves one client on stdin/stdout (nbd_connect_command, nbdkit -s style). */
        public Builder serveStdio() {
            endpoints.add(new Endpoint.Stdio());
            return this;
        }

        /** Serves the socket passed by systemd socket activation (LISTEN_PID/LISTEN_FDS, fd 3). */
        public Builder socketActivation() {
            endpoints.add(new Endpoint.Activation());
            return this;
        }

        /** Serves one client over an already connected transport (embedding, tests). */
        public Builder serveTransport(NbdTransport transport) {
            endpoints.add(new Endpoint.Given(transport));
            return this;
        }

        public NbdServer build() {
            if (exports.isEmpty()) {
                throw new IllegalStateException("an NBD server needs at least one export");
            }
            if (endpoints.isEmpty()) {
                throw new IllegalStateException("an NBD server needs somewhere to serve (TCP, unix, stdio, ...)");
            }
            return new NbdServer(this);
        }

        /** {@code build().start()}. */
        public NbdServer start() throws IOException {
            return build().start();
        }
    }
}

package io.jmd.nbd.client;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.block.InFlight;
import io.jmd.nbd.NbdProtocol;
import io.jmd.nbd.NbdTransport;
import io.jmd.nbd.RequestDescriptor;
import io.jmd.sync.ThreadRole;
import io.jmd.work.DaemonThread;

import java.io.EOFException;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A member that is a remote NBD export ({@code nbd://host:port/export} or
 * {@code nbd+unix:///export?socket=path}): jmd's NBD client as a {@link BlockDevice}.
 *
 * <h2>One connection, many requests in flight</h2>
 * <pre>
 *  submit/trySubmit ─► slot (InFlight) ─► queue ─► sender thread ─► requests on the socket
 *                                                     │ each request in pending (cookie ─► request)
 *  bio ends ◄─ InFlight.end ◄─ receiver thread ◄─ replies (simple or structured, any order)
 * </pre>
 * {@code submit} waits for one of {@code queueDepth} slots (backpressure); {@code trySubmit}
 * never waits; neither touches the socket, so both are safe from bio callbacks and the md thread.
 * The sender and the receiver are {@link DaemonThread}s with the I/O-progress role: bios end on
 * the receiver (or, for bios that never needed the server, on the sender), never on the
 * submitter's thread. A bio ends exactly once: see {@link BioWork}.
 *
 * <h2>A broken connection is a dead disk</h2>
 * End of stream, a socket error, a protocol violation by the server ({@link NbdProtocolError}),
 * or no reply within the reply timeout: the connection is closed, every request in flight and
 * every bio submitted later ends with EIO, and md fails the member as it would a disk that died.
 * There is no reconnect: a member that comes back is re-added ({@code jmd add}), as with md.
 *
 * <h2>Not here</h2>
 * TLS, NBD_CMD_BLOCK_STATUS (every range is reported as data, which is never a lie), multiple
 * connections, extended headers, and locking: two arrays on one export are the operator's care,
 * as two hosts on one SAN disk are.
 */
public final class NbdBlockDevice implements BlockDevice {
    private static final System.Logger LOG = System.getLogger(NbdBlockDevice.class.getName());
    /** Requests in flight per member: deep enough to keep a network pipe full, as the file device's 64. */
    public static final int QUEUE_DEPTH_DEFAULT = 64;
    public static final int QUEUE_DEPTH_MAX = 4096;
    public static final long CONNECT_TIMEOUT_NANOS_DEFAULT = 30_000_000_000L;
    /** nbdkit and jmd's server give a client a minute to negotiate; we wait half of that for them. */
    public static final long HANDSHAKE_TIMEOUT_NANOS_DEFAULT = 30_000_000_000L;
    /**
     * A request unanswered this long means the server or the network is gone without telling us
     * (no RST, a hung server): the member fails, as a disk whose command timed out. Two minutes
     * is far beyond any healthy request, also a 1 GiB TRIM on a slow disk.
     */
    public static final long REPLY_TIMEOUT_NANOS_DEFAULT = 120_000_000_000L;

    /**
     * How to open an export.
     *
     * @param structuredReplies ask for structured replies (sparse reads come back as holes);
     *                          simple replies are used when false or refused
     * @param replyTimeoutNanos 0 for none
     */
    public record Options(NbdUri uri, boolean readOnly, int queueDepth, boolean structuredReplies,
                          long connectTimeoutNanos, long handshakeTimeoutNanos, long replyTimeoutNanos) {
        public Options {
            Objects.requireNonNull(uri, "uri");
            if (queueDepth < 1 || queueDepth > QUEUE_DEPTH_MAX) {
                throw new IllegalArgumentException(uri + ": queue depth must be 1.." + QUEUE_DEPTH_MAX + ", got " + queueDepth);
            }
            if (connectTimeoutNanos <= 0 || handshakeTimeoutNanos <= 0 || replyTimeoutNanos < 0) {
                throw new IllegalArgumentException(uri + ": bad timeouts");
            }
        }

        public static Options of(NbdUri uri) {
            return new Options(uri, false, QUEUE_DEPTH_DEFAULT, true, CONNECT_TIMEOUT_NANOS_DEFAULT,
                HANDSHAKE_TIMEOUT_NANOS_DEFAULT, REPLY_TIMEOUT_NANOS_DEFAULT);
        }

        public Options readOnly(boolean value) {
            return new Options(uri, value, queueDepth, structuredReplies, connectTimeoutNanos, handshakeTimeoutNanos,
                replyTimeoutNanos);
        }

        public Options queueDepth(int value) {
            return new Options(uri, readOnly, value, structuredReplies, connectTimeoutNanos, handshakeTimeoutNanos,
                replyTimeoutNanos);
        }

        public Options structuredReplies(boolean value) {
            return new Options(uri, readOnly, queueDepth, value, connectTimeoutNanos, handshakeTimeoutNanos,
                replyTimeoutNanos);
        }

        public Options handshakeTimeoutNanos(long value) {
            return new Options(uri, readOnly, queueDepth, structuredReplies, connectTimeoutNanos, value, replyTimeoutNanos);
        }

        public Options replyTimeoutNanos(long value) {
            return new Options(uri, readOnly, queueDepth, structuredReplies, connectTimeoutNanos, handshakeTimeoutNanos,
                value);
        }
    }

    private final Env env;
    private final String name;
    private final boolean readOnly;
    private final NbdTransport transport;
    private final ExportInfo info;
    private final long sizeBytes;
    private final long replyTimeoutNanos;
    private final InFlight inFlight;
    private final ConcurrentLinkedQueue<BioWork> queue = new ConcurrentLinkedQueue<>();
    private final ConcurrentHashMap<Long, Command> pending = new ConcurrentHashMap<>();
    private final AtomicReference<IOException> failure = new AtomicReference<>();
    private final ReplyReader reader;
    private final DaemonThread sender;
    private final DaemonThread receiver;
    /** Set by the receiver's first run: later runs only end what is left in pending. */
    private boolean receiverStarted;
    private volatile boolean closing;
    private volatile boolean closed;

    private NbdBlockDevice(Env env, Options o, NbdTransport transport, ExportInfo info) {
        this.env = env;
        this.name = o.uri().uri();
        this.readOnly = o.readOnly();
        this.transport = transport;
        this.info = info;
        this.sizeBytes = info.sizeBytes() - info.sizeBytes() % 512; // a trailing partial sector is not used
        this.replyTimeoutNanos = o.replyTimeoutNanos();
        this.inFlight = new InFlight(env.scheduler(), name, o.queueDepth());
        this.reader = new ReplyReader(transport, pending, info.structuredReplies(), name, this::complete);
        RequestSender s = new RequestSender(transport, info, readOnly, pending, queue, env.clock(), new RequestSender.Link() {
            @Override
            public boolean broken() {
                return failure.get() != null;
            }

            @Override
            public void fail(IOException cause) {
                NbdBlockDevice.this.fail(cause);
            }

            @Override
            public void wakeReceiver() {
                receiver().wakeup();
            }

            @Override
            public void finish(BioWork w) {
                NbdBlockDevice.this.finish(w);
            }
        });
        String thread = "nbd-client " + o.uri().where() + "/" + o.uri().exportName();
        this.receiver = new DaemonThread(env.scheduler(), thread + " receiver", EnumSet.of(ThreadRole.IO_PROGRESS),
            Long.MAX_VALUE, this::receive);
        this.sender = new DaemonThread(env.scheduler(), thread + " sender", EnumSet.of(ThreadRole.IO_PROGRESS),
            Long.MAX_VALUE, s::drain);
        receiver.wakeup();
        if (replyTimeoutNanos > 0) {
            env.timer().schedule(watchdogPeriodNanos(), this::watchdog);
        }
    }

    private DaemonThread receiver() {
        return receiver;
    }

    /** Opens {@code uri} with the default options. */
    public static NbdBlockDevice open(Env env, String uri, boolean readOnly) throws IOException {
        NbdUri u;
        try {
            u = NbdUri.parse(uri);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        return open(env, Options.of(u).readOnly(readOnly));
    }

    /**
     * Connects, negotiates and starts the connection's threads. Throws with an operator-readable
     * message naming the URI: cannot connect, no such export, a read-only export opened for
     * writing, an export jmd cannot use, a server that breaks the protocol or does not answer.
     */
    public static NbdBlockDevice open(Env env, Options o) throws IOException {
        Connector.Connected c = Connector.connect(env, o);
        LOG.log(System.Logger.Level.DEBUG, () -> o.uri() + ": " + c.info().describe());
        try {
            return new NbdBlockDevice(env, o, c.transport(), c.info());
        } catch (RuntimeException e) {
            closeQuietly(c.transport()); // its threads could not start: nothing else holds the connection
            throw e;
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public int optimalIoBytes() {
        return Math.max(4096, Math.min(info.preferredBlockBytes(), 1 << 20));
    }

    @Override
    public boolean supportsDiscard() {
        return !readOnly && !info.readOnly() && info.has(NbdProtocol.TFLAG_SEND_TRIM);
    }

    /** What the handshake learned (size, flags, block sizes, reply style). */
    public ExportInfo exportInfo() {
        return info;
    }

    public boolean isReadOnly() {
        return readOnly;
    }

    public int queueDepth() {
        return inFlight.queueDepth();
    }

    /** Bios submitted and not yet ended. */
    public int inFlight() {
        return inFlight.inFlight();
    }

    /** Why the connection broke, or null while it works. */
    public IOException failure() {
        return failure.get();
    }

    /** The message of the last error chunk the server sent (diagnostics), or null. */
    public String lastServerMessage() {
        return reader.lastServerMessage();
    }

    public long callbackFailures() {
        return inFlight.callbackFailures();
    }

    @Override
    public void submit(Bio bio) {
        assert BlockDevice.submittable(this, bio, closed);
        inFlight.acquire();
        enqueue(bio);
    }

    @Override
    public boolean trySubmit(Bio bio) {
        assert BlockDevice.submittable(this, bio, closed);
        if (!inFlight.tryAcquire()) {
            return false;
        }
        enqueue(bio);
        return true;
    }

    private void enqueue(Bio bio) {
        queue.add(new BioWork(bio, RequestSender.needsFlushAfter(bio, info)));
        sender.wakeup();
    }

    /** The receiver's handler: the reply loop once, then (after a failure) ending what is left. */
    private void receive() {
        if (!receiverStarted) {
            receiverStarted = true;
            try {
                reader.run();
                if (!closing) {
                    fail(new EOFException("the server closed the connection"));
                }
            } catch (IOException e) {
                if (!closing) {
                    fail(e);
                }
            } catch (RuntimeException e) {
                fail(new IOException("reading replies failed unexpectedly: " + e, e));
            }
        }
        endPending();
    }

    /** After a failure: every request still in pending ends with EIO (receiver thread only). */
    private void endPending() {
        if (failure.get() == null) {
            return;
        }
        for (Long cookie : pending.keySet()) {
            Command c = pending.remove(cookie);
            if (c != null) {
                complete(c, Errno.EIO);
            }
        }
    }

    /** One request answered (or given up): counts it off its bio. */
    private void complete(Command c, int errno) {
        if (errno != 0) {
            c.work.fail(errno);
        }
        if (c.work.release()) {
            finish(c.work);
        }
    }

    /** Every request of {@code w} is done: end the bio, or send the FLUSH its FUA needs first. */
    private void finish(BioWork w) {
        if (w.flushAfter && !w.flushStage && w.status() == 0) {
            if (failure.get() == null) {
                w.startFlushStage();
                queue.add(w); // no new slot: the bio keeps the one it has
                sender.wakeup();
                return;
            }
            w.fail(Errno.EIO); // written, but not known durable: a FUA write that failed
        }
        inFlight.end(w.bio, w.status());
    }

    /** The connection is unusable: remember the first cause, close it, let both threads end what is left. */
    private void fail(IOException cause) {
        if (failure.compareAndSet(null, cause)) {
            if (!closing) {
                LOG.log(System.Logger.Level.WARNING, () -> name + ": connection lost (" + describe(cause)
                    + "); every request to this member fails with EIO from now on");
            }
            closeQuietly(transport);
        }
        receiver.wakeup();
        sender.wakeup();
    }

    private static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** Timer task: a request unanswered past the reply timeout breaks the connection. */
    private void watchdog() {
        if (closing || failure.get() != null) {
            return;
        }
        long now = env.clock().nanoTime();
        for (Command c : pending.values()) {
            if (now - c.sentNanos > replyTimeoutNanos) {
                fail(new IOException("no reply to " + c + " within " + replyTimeoutNanos / 1_000_000 + " ms"));
                return;
            }
        }
        env.timer().schedule(watchdogPeriodNanos(), this::watchdog);
    }

    private long watchdogPeriodNanos() {
        return Math.max(10_000_000L, replyTimeoutNanos / 4);
    }

    /** Sends NBD_CMD_DISC (when the connection still works) and closes. Every bio must have ended. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        inFlight.assertIdle();
        closed = true;
        closing = true;
        sender.close();
        if (failure.get() == null) {
            try {
                transport.write(RequestDescriptor.write(0, NbdProtocol.CMD_DISC, 0, 0, 0));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> name + ": DISC: " + e);
            }
        }
        closeQuietly(transport);
        receiver.close();
        assert pending.isEmpty() && queue.isEmpty() : name + ": requests left at close";
    }

    static void closeQuietly(NbdTransport t) {
        try {
            t.close();
        } catch (IOException e) {
            // closing a socket that already failed
        }
    }

    @Override
    public String toString() {
        return "NbdBlockDevice[" + name + ", " + info.describe() + (readOnly ? ", opened read-only" : "")
            + (failure.get() != null ? ", FAILED: " + describe(failure.get()) : "") + "]";
    }
}

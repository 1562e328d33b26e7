package io.jmd.nbd;

import io.jmd.Env;
import io.jmd.sync.Completion;
import io.jmd.sync.JmdThread;
import io.jmd.sync.ThreadRole;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.EnumSet;

/**
 * One client connection: a reader thread (handshake, then requests) and, once transmission
 * starts, a writer thread ({@link ReplyWriter}). Both have the CLIENT role: they serve an
 * outside party and may block on it, on admission and on device slots; I/O progress never
 * depends on them.
 *
 * <pre>
 *  reader:  handshake ─► [read header ─► validate ─► admit ─► (payload) ─► submit]* ─► input done
 *           (timeout: the Env timer closes a connection still haggling after handshakeTimeoutNanos)
 *  writer:            └► [take reply ─► write ─► release]* until input done and nothing owed ─► close
 * </pre>
 *
 * The connection ends when the writer has released the last admitted request, so every buffer
 * comes back even when the client vanished mid-request. A protocol violation closes the socket
 * at once (a hard disconnect); DISC, end of stream and server shutdown let the owed replies go out
 * first.
 */
final class Connection {
    private static final System.Logger LOG = System.getLogger(Connection.class.getName());

    private final NbdServer server;
    private final Env env;
    private final NbdTransport transport;
    private final String name;
    private final Completion finished;
    private volatile JmdThread readerThread;
    private volatile JmdThread writerThread;
    private volatile Admission admission;
    /** Set by the reader when option haggling ended (either way); read by the timer thread. */
    private volatile boolean handshakeOver;
    /** The server's only connection on its transport (stdio, ...): it ends serving when it ends. */
    private final boolean single;

    Connection(NbdServer server, NbdTransport transport, long id, boolean single) {
        this.server = server;
        this.single = single;
        this.env = server.env();
        this.transport = transport;
        this.name = "nbd-conn-" + id;
        this.finished = new Completion(env.scheduler(), name + " finished");
    }

    String name() {
        return name;
    }

    boolean isSingle() {
        return single;
    }

    void start() {
        readerThread = env.scheduler().start(name + "-reader", EnumSet.of(ThreadRole.CLIENT), this::readerMain);
    }

    /** Graceful stop: no more requests are read; owed replies still go out. */
    void stopReading() {
        try {
            transport.shutdownInput();
        } catch (IOException e) {
            abort();
        }
    }

    /** Hard stop: closes the transport; blocked reads and writes fail, owed replies are dropped. */
    void abort() {
        try {
            transport.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> name + ": close: " + e);
        }
    }

    /** Runs on the timer thread: a client still haggling after the timeout is disconnected. */
    private void handshakeDeadline() {
        if (!handshakeOver && !finished.isDone()) {
            LOG.log(System.Logger.Level.WARNING, () -> name + " (" + transport.describe()
                + "): no transmission phase within the handshake timeout; disconnecting");
            abort();
        }
    }

    /** Waits until the connection ended; true if it did within {@code timeoutNanos}. */
    boolean awaitFinished(long timeoutNanos) {
        return finished.await(timeoutNanos);
    }

    boolean isFinished() {
        return finished.isDone();
    }

    /** Joins both threads (after {@link #isFinished}). */
    void join() {
        JmdThread r = readerThread;
        JmdThread w = writerThread;
        if (r != null && r != env.scheduler().current()) {
            env.scheduler().join(r);
        }
        if (w != null && w != env.scheduler().current()) {
            env.scheduler().join(w);
        }
    }

    Admission admission() {
        return admission;
    }

    private void readerMain() {
        ReplyWriter writer = null;
        try {
            // Timer tasks must not block: closing a socket does not (a blocked reader just fails).
            env.timer().schedule(server.limits().handshakeTimeoutNanos(), this::handshakeDeadline);
            Session s = new Handshake(transport, server.exports(), server::isShuttingDown).run();
            handshakeOver = true;
            if (s == null) {
                return;
            }
            LOG.log(System.Logger.Level.DEBUG, () -> name + ": " + transport.describe() + " uses " + s.export());
            admission = new Admission(env, server.serverSlots(), server.limits(), name);
            ReplyWriter w = new ReplyWriter(env.scheduler(), transport, s, admission, name);
            writerThread = env.scheduler().start(name + "-writer", EnumSet.of(ThreadRole.CLIENT), () -> writerMain(w));
            writer = w; // from here on the writer ends the connection
            RequestStream in = new RequestStream(transport);
            receive(s, in, new Commands(s, admission, writer, in));
        } catch (ProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, () -> name + " (" + transport.describe() + "): " + e.getMessage()
                + "; disconnecting");
            abort();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> name + ": " + e);
        } finally {
            if (writer != null) {
                writer.inputDone();
            } else {
                end();
            }
        }
    }

    /** The transmission loop: until DISC, end of stream, or a violation. */
    private void receive(Session s, RequestStream in, Commands commands) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(RequestDescriptor.BYTES);
        while (true) {
            header.clear();
            if (!in.readHeader(header)) {
                return; // end of stream between requests
            }
            Request r = RequestDescriptor.read(header.flip());
            if (r.magic() != NbdProtocol.REQUEST_MAGIC) {
                throw new ProtocolException("bad request magic 0x" + Integer.toHexString(r.magic()));
            }
            if (r.type() == NbdProtocol.CMD_DISC) {
                return;
            }
            RequestValidator.Rejection x = RequestValidator.validate(r, s);
            if (x == null) {
                commands.dispatch(r);
                continue;
            }
            if (r.carriesPayload()) {
                skipPayload(s, in, r);
            }
            commands.reject(r, x);
        }
    }

    /** A refused WRITE's payload still follows it; read and drop it, or give up on a huge one. */
    private void skipPayload(Session s, RequestStream in, Request r) throws IOException {
        long limit = 2L * s.export().maxPayloadBytes;
        if (r.lengthBytes() > limit) {
            throw new ProtocolException("refused WRITE carries " + r.lengthBytes() + " bytes, more than "
                + limit + " we would skip");
        }
        in.skip(r.lengthBytes());
    }

    private void writerMain(ReplyWriter w) {
        try {
            w.run();
        } finally {
            end();
        }
    }

    private void end() {
        abort();
        finished.complete(0);
        server.connectionEnded(this);
    }
}

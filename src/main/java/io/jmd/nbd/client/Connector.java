package io.jmd.nbd.client;

import io.jmd.Env;
import io.jmd.nbd.ChannelTransport;
import io.jmd.nbd.NbdTransport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Opening a connection to an export: the socket (TCP with a connect timeout and keep-alive, or a
 * unix socket), the handshake under a deadline (the Env's timer closes a connection still
 * negotiating when it passes), and the checks that the export can be a member. Every failure is
 * an IOException whose message starts with the URI and says what to do.
 */
final class Connector {
    /** A connection in transmission phase and what the handshake learned. */
    record Connected(NbdTransport transport, ExportInfo info) {
    }

    private Connector() {
    }

    static Connected connect(Env env, NbdBlockDevice.Options o) throws IOException {
        NbdUri u = o.uri();
        NbdTransport t = socket(u, o.connectTimeoutNanos());
        ExportInfo info;
        AtomicBoolean negotiated = new AtomicBoolean();
        AtomicBoolean timedOut = new AtomicBoolean();
        env.timer().schedule(o.handshakeTimeoutNanos(), () -> {
            if (!negotiated.get()) {
                timedOut.set(true);
                NbdBlockDevice.closeQuietly(t); // a blocked read fails; the handshake reports it below
            }
        });
        try {
            info = ClientHandshake.run(t, u.exportName(), o.structuredReplies(), u.where());
        } catch (IOException e) {
            NbdBlockDevice.closeQuietly(t);
            if (timedOut.get()) {
                throw new IOException(u + ": " + u.where() + " did not finish the NBD handshake within "
                    + o.handshakeTimeoutNanos() / 1_000_000_000L + " s", e);
            }
            throw new IOException(u + ": " + e.getMessage(), e);
        } finally {
            negotiated.set(true);
        }
        String problem = unusable(info, o.readOnly());
        if (problem != null) {
            NbdBlockDevice.closeQuietly(t);
            throw new IOException(u + ": " + problem);
        }
        return new Connected(t, info);
    }

    private static String unusable(ExportInfo info, boolean readOnly) {
        if (info.minBlockBytes() > 512) {
            return "the export needs requests aligned to " + info.minBlockBytes() + " bytes; md members take"
                + " 512-byte sectors";
        }
        if (info.sizeBytes() < 512) {
            return "the export is " + info.sizeBytes() + " bytes, too small for a member";
        }
        if (info.readOnly() && !readOnly) {
            return "the export is read-only; a member is written to (read-only use: jmd examine, assemble --readonly)";
        }
        return null;
    }

    private static NbdTransport socket(NbdUri u, long timeoutNanos) throws IOException {
        SocketChannel ch = null;
        try {
            if (u.isUnix()) {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(UnixDomainSocketAddress.of(u.socket()));
            } else {
                InetSocketAddress a = new InetSocketAddress(u.host(), u.port());
                if (a.isUnresolved()) {
                    throw new IOException("unknown host " + u.host());
                }
                ch = SocketChannel.open();
                ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
                ch.socket().connect(a, (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeoutNanos / 1_000_000)));
            }
            return ChannelTransport.of(ch);
        } catch (IOException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // the connect failure is what matters
                }
            }
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new IOException(u + ": cannot connect to " + u.where() + ": " + why, e);
        }
    }
}

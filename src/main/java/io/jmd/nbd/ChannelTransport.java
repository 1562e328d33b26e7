package io.jmd.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An {@link NbdTransport} over blocking NIO channels: one {@link SocketChannel} (TCP, unix
 * socket, an inherited socket) or a separate input and output channel (stdin/stdout as pipes,
 * {@link java.nio.channels.Pipe} in tests).
 */
public final class ChannelTransport implements NbdTransport {
    private final ReadableByteChannel in;
    private final WritableByteChannel out;
    private final String description;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ChannelTransport(ReadableByteChannel in, WritableByteChannel out, String description) {
        this.in = in;
        this.out = out;
        this.description = description;
    }

    /** A connected socket; TCP sockets get TCP_NODELAY, as replies are small and latency-bound. */
    public static ChannelTransport of(SocketChannel socket) throws IOException {
        socket.configureBlocking(true);
        String d;
        try {
            socket.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
        } catch (UnsupportedOperationException e) {
            // unix domain socket: no Nagle to turn off
        }
        java.net.SocketAddress remote = socket.getRemoteAddress();
        d = remote == null ? "socket" : remote.toString();
        return new ChannelTransport(socket, socket, d.isEmpty() ? "unix socket" : d);
    }

    /** Two one-way channels (stdin and stdout, or the ends of two pipes). */
    public static ChannelTransport of(ReadableByteChannel in, WritableByteChannel out, String description) {
        return new ChannelTransport(in, out, description);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return in.read(dst);
    }

    @Override
    public void write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        if (out instanceof GatheringByteChannel g) {
            long remaining = 0;
            for (int i = offset; i < offset + length; i++) {
                remaining += srcs[i].remaining();
            }
            while (remaining > 0) {
                remaining -= g.write(srcs, offset, length);
            }
            return;
        }
        for (int i = offset; i < offset + length; i++) {
            while (srcs[i].hasRemaining()) {
                out.write(srcs[i]);
            }
        }
    }

    @Override
    public void shutdownInput() throws IOException {
        if (in instanceof SocketChannel s) {
            if (s.isOpen()) {
                s.shutdownInput();
            }
        } else {
            in.close();
        }
    }

    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            in.close();
        } finally {
            if (out != in) {
                out.close();
            }
        }
    }

    @Override
    public String describe() {
        return description;
    }
}

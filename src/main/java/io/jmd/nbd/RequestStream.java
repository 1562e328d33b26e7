package io.jmd.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The transmission-phase input of one connection, read ahead in chunks so that pipelined
 * requests cost one read syscall for many 28-byte headers. Payloads bypass the read-ahead once
 * it is drained: they go straight from the socket into their admitted buffer.
 *
 * <p>Bound: {@link #READ_AHEAD_BYTES} per connection, fixed at creation; bytes beyond it stay in
 * the socket, so a reader blocked on admission still stops the client (backpressure). Owner: the
 * connection's reader thread.
 */
final class RequestStream {
    /** Read-ahead size: ~580 headers; small next to a payload, large enough to drain a full pipeline. */
    static final int READ_AHEAD_BYTES = 16 * 1024;

    private final NbdTransport transport;
    /** Unread bytes are [position, limit). */
    private final ByteBuffer ahead = ByteBuffer.allocate(READ_AHEAD_BYTES).flip();

    RequestStream(NbdTransport transport) {
        this.transport = transport;
    }

    /**
     * Fills {@code dst} (a request header). Returns false at a clean end of stream before the
     * first byte; throws {@link EOFException} if the stream ends inside the header.
     */
    boolean readHeader(ByteBuffer dst) throws IOException {
        assert dst.remaining() <= READ_AHEAD_BYTES : "a header fits the read-ahead";
        while (ahead.remaining() < dst.remaining()) {
            if (!fill()) {
                if (ahead.hasRemaining()) {
                    throw new EOFException("connection closed in the middle of a request header");
                }
                return false;
            }
        }
        int n = dst.remaining();
        dst.put(dst.position(), ahead, ahead.position(), n);
        dst.position(dst.position() + n);
        ahead.position(ahead.position() + n);
        return true;
    }

    /** Fills {@code dst} with payload: what was read ahead first, the rest from the socket. */
    void readPayload(ByteBuffer dst) throws IOException {
        int n = Math.min(dst.remaining(), ahead.remaining());
        dst.put(dst.position(), ahead, ahead.position(), n);
        dst.position(dst.position() + n);
        ahead.position(ahead.position() + n);
        if (dst.hasRemaining()) {
            transport.readExactly(dst);
        }
    }

    /** Drops {@code bytes} of payload (a refused WRITE's). */
    void skip(long bytes) throws IOException {
        int n = (int) Math.min(bytes, ahead.remaining());
        ahead.position(ahead.position() + n);
        if (bytes > n) {
            Wire.skip(transport, bytes - n);
        }
    }

    /** Reads more into the read-ahead; false at end of stream. */
    private boolean fill() throws IOException {
        ahead.compact();
        try {
            return transport.read(ahead) >= 0;
        } finally {
            ahead.flip();
        }
    }
}

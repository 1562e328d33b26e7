package io.jmd.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The byte stream of one NBD connection: a TCP or unix socket, stdin/stdout, or an in-memory
 * pipe in tests. Blocking: the connection's reader thread is the only reader and its writer
 * thread (or the reader, during the handshake) the only writer.
 */
public interface NbdTransport extends AutoCloseable {
    /** Reads what is available into {@code dst} (at least one byte); -1 at end of stream. */
    int read(ByteBuffer dst) throws IOException;

    /** Writes every remaining byte of {@code srcs}, in order. */
    default void write(ByteBuffer... srcs) throws IOException {
        write(srcs, 0, srcs.length);
    }

    /** Writes every remaining byte of {@code srcs[offset .. offset + length)}, in order (one writev where possible). */
    void write(ByteBuffer[] srcs, int offset, int length) throws IOException;

    /**
     * Makes a blocked or later {@link #read} see end of stream, without disturbing writes still
     * under way: graceful shutdown stops taking requests but still sends the replies owed.
     */
    void shutdownInput() throws IOException;

    /** Closes both directions; a blocked read or write fails. Idempotent. */
    @Override
    void close() throws IOException;

    /** For messages: the peer address or the transport kind. */
    String describe();

    /**
     * Fills {@code dst} completely. Returns false if the stream ended before the first byte (a
     * clean end at a message boundary); throws {@link EOFException} if it ended in the middle.
     */
    default boolean readFully(ByteBuffer dst) throws IOException {
        boolean first = true;
        while (dst.hasRemaining()) {
            int n = read(dst);
            if (n < 0) {
                if (first) {
                    return false;
                }
                throw new EOFException("connection closed in the middle of a message");
            }
            first = first && n == 0;
        }
        return true;
    }

    /** Like {@link #readFully} but an end of stream anywhere is an {@link EOFException}. */
    default void readExactly(ByteBuffer dst) throws IOException {
        if (!readFully(dst) && dst.capacity() > 0) {
            throw new EOFException("connection closed where a message was expected");
        }
    }
}

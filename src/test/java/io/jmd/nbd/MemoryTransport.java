package io.jmd.nbd;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;

/**
 * A transport over a fixed client byte stream: reads come from {@code input} until it ends (then
 * end of stream), writes are collected for inspection. For fuzz targets, which must not need
 * sockets or threads to feed the server.
 */
final class MemoryTransport implements NbdTransport {
    private final ByteBuffer input;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private volatile boolean inputShut;
    private volatile boolean closed;

    MemoryTransport(byte[] input) {
        this.input = ByteBuffer.wrap(input);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        if (inputShut || !input.hasRemaining()) {
            return -1;
        }
        int n = Math.min(dst.remaining(), input.remaining());
        ByteBuffer slice = input.slice(input.position(), n);
        dst.put(slice);
        input.position(input.position() + n);
        return n;
    }

    @Override
    public void write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        for (int i = offset; i < offset + length; i++) {
            ByteBuffer b = srcs[i];
            byte[] chunk = new byte[b.remaining()];
            b.get(chunk);
            output.write(chunk, 0, chunk.length); // ByteArrayOutputStream guards itself
        }
    }

    @Override
    public void shutdownInput() {
        inputShut = true;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String describe() {
        return "memory";
    }

    byte[] written() {
        return output.toByteArray();
    }
}

package io.jmd.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Small stream helpers shared by the handshake and the request reader. */
final class Wire {
    /** Scratch size for dropping bytes we must read but do not keep. */
    private static final int SKIP_CHUNK_BYTES = 64 * 1024;

    private Wire() {
    }

    /** Reads and drops {@code bytes} bytes (a rejected WRITE's payload, an oversized option). */
    static void skip(NbdTransport transport, long bytes) throws IOException {
        assert bytes >= 0 : "negative skip";
        ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(SKIP_CHUNK_BYTES, Math.max(bytes, 1)));
        long left = bytes;
        while (left > 0) {
            scratch.clear().limit((int) Math.min(scratch.capacity(), left));
            transport.readExactly(scratch);
            left -= scratch.limit();
        }
    }
}

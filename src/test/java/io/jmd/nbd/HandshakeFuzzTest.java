package io.jmd.nbd;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes option haggling with arbitrary client bytes. Whatever the client sends, the handshake
 * ends in one of three ways (a session, a clean end, an IOException for a hard disconnect),
 * never anything else, and everything the server wrote is well framed: the greeting, then whole
 * option replies, then at most one EXPORT_NAME reply.
 *
 * <p>Regression inputs: src/test/resources/io/jmd/nbd/HandshakeFuzzTestInputs/handshake/ (run
 * as plain tests by surefire; {@code JAZZER_FUZZ=1} fuzzes for real).
 */
class HandshakeFuzzTest {
    /** Only its size and name are used by the handshake. */
    private static final class SizedDevice implements BlockDevice {
        private final long size;

        SizedDevice(long size) {
            this.size = size;
        }

        @Override
        public String name() {
            return "sized";
        }

        @Override
        public long sizeBytes() {
            return size;
        }

        @Override
        public void submit(Bio bio) {
            throw new AssertionError("the handshake does no I/O");
        }

        @Override
        public void close() {
        }
    }

    private static final ExportTable EXPORTS = new ExportTable(List.of(
        new Export("disk", "fuzz disk", new SizedDevice(1L << 30), false, 32 << 20),
        new Export("ro", "", new SizedDevice(4096), true, 32 << 20)));

    @FuzzTest(maxDuration = "30s")
    void handshake(byte[] input) {
        MemoryTransport t = new MemoryTransport(input);
        Session s = null;
        boolean hardDisconnect = false;
        try {
            s = new Handshake(t, EXPORTS, () -> false).run();
        } catch (ProtocolException | EOFException e) {
            hardDisconnect = true;
        } catch (IOException e) {
            throw new AssertionError("only protocol violations and early ends may fail a handshake", e);
        }
        if (s != null) {
            assertTrue(s.export() == EXPORTS.lookup(s.export().name));
            assertEquals(s.structuredReplies(), s.advertises(NbdProtocol.TFLAG_SEND_DF));
        }
        checkFraming(t.written(), s != null, hardDisconnect);
    }

    private static void checkFraming(byte[] out, boolean agreed, boolean hardDisconnect) {
        ByteBuffer b = ByteBuffer.wrap(out);
        assertTrue(b.remaining() >= HandshakeDescriptor.GREETING_BYTES, "greeting always goes out");
        assertEquals(NbdProtocol.NBDMAGIC, b.getLong());
        assertEquals(NbdProtocol.IHAVEOPT, b.getLong());
        assertEquals(Handshake.HANDSHAKE_FLAGS, b.getShort());
        while (b.remaining() >= OptionDescriptor.REPLY_HEADER_BYTES
            && b.getLong(b.position()) == NbdProtocol.OPTION_REPLY_MAGIC) {
            b.position(b.position() + 16);
            int length = b.getInt();
            assertTrue(length >= 0 && length <= b.remaining(), "option reply length within what was written");
            b.position(b.position() + length);
        }
        if (b.hasRemaining()) {
            // Only an EXPORT_NAME success ends in a bare size+flags reply.
            assertTrue(agreed, "unframed bytes after option replies: " + b.remaining());
            assertTrue(b.remaining() == 10 || b.remaining() == 134, "EXPORT_NAME reply size " + b.remaining());
        }
        assertTrue(!(agreed && hardDisconnect));
    }
}

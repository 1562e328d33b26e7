package io.jmd.nbd;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jmd.Env;
import io.jmd.testutil.JmdEnvExtension;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

import static io.jmd.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes request parsing: the validator's verdicts (every accepted request is one the rest of
 * the server may trust) and whole transmission phases through a real connection (whatever the
 * client sends, the connection ends, every buffer comes back, the checker sees no violation,
 * and the reply stream is well framed).
 *
 * <p>Regression inputs live in src/test/resources/io/jmd/nbd/RequestFuzzTestInputs/.
 */
class RequestFuzzTest {
    private static final long SIZE_BYTES = 1L << 20;

    @FuzzTest(maxDuration = "30s")
    void validator(FuzzedDataProvider d) {
        boolean readOnly = d.consumeBoolean();
        boolean structured = d.consumeBoolean();
        boolean meta = structured && d.consumeBoolean();
        Export e = new Export("x", null, new TestDevice(null, "v", SIZE_BYTES), readOnly, 1 << 16);
        Session s = new Session(e, SIZE_BYTES, structured, meta, e.transmissionFlags(structured));
        ByteBuffer h = ByteBuffer.wrap(padded(d.consumeBytes(RequestDescriptor.BYTES)));
        h.putInt(0, REQUEST_MAGIC);
        Request r = RequestDescriptor.read(h);
        if (r.type() == CMD_DISC) {
            return;
        }
        RequestValidator.Rejection x = RequestValidator.validate(r, s);
        if (x != null) {
            assertTrue(x.error() == EINVAL || x.error() == EPERM || x.error() == ENOSPC || x.error() == EOVERFLOW,
                "unexpected error " + x.error());
            return;
        }
        assertTrue(r.type() <= CMD_BLOCK_STATUS, "known command");
        assertEquals(0, r.flags() & ~CMD_FLAGS_KNOWN, "known flags");
        assertTrue(!readOnly || r.type() == CMD_READ || r.type() == CMD_FLUSH || r.type() == CMD_CACHE
            || r.type() == CMD_BLOCK_STATUS, "no writes to a read-only export");
        assertTrue(r.type() != CMD_BLOCK_STATUS || meta, "block status only with a context");
        if (r.type() == CMD_FLUSH) {
            assertEquals(0, r.offsetBytes());
            assertEquals(0, r.lengthBytes());
            return;
        }
        assertTrue(r.offsetBytes() >= 0 && r.lengthBytes() > 0, "a real range");
        assertTrue(r.offsetBytes() + r.lengthBytes() <= SIZE_BYTES, "inside the export");
        assertEquals(0, r.offsetBytes() % 512);
        assertEquals(0, r.lengthBytes() % 512);
        if (r.type() == CMD_READ || r.type() == CMD_WRITE) {
            assertTrue(r.lengthBytes() <= e.maxPayloadBytes, "payload within the maximum");
        }
    }

    private static byte[] padded(byte[] b) {
        return b.length == RequestDescriptor.BYTES ? b : java.util.Arrays.copyOf(b, RequestDescriptor.BYTES);
    }

    @FuzzTest(maxDuration = "60s")
    void transmission(FuzzedDataProvider d) throws Exception {
        boolean meta = d.consumeBoolean();
        boolean readOnly = d.consumeBoolean();
        byte[] stream = clientStream(d, meta);
        Env env = Env.forTests(64L << 20);
        TestDevice device = new TestDevice(env, "fuzz", SIZE_BYTES);
        MemoryTransport t = new MemoryTransport(stream);
        NbdServer server = NbdServer.builder(env)
            .limits(NbdLimits.defaults().withMaxPayloadBytes(1 << 20).withRequestsPerConnection(8))
            .export("disk", null, device, readOnly)
            .serveTransport(t)
            .start();
        try {
            assertTrue(server.awaitTermination(30_000_000_000L), "the connection ends when the input does");
        } finally {
            server.close();
            device.close();
            env.close();
        }
        JmdEnvExtension.check(env);
        checkReplies(t.written());
    }

    /** A GO handshake with structured replies, then requests shaped (mostly) like real ones. */
    private static byte[] clientStream(FuzzedDataProvider d, boolean meta) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(4).putInt(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES).array());
        option(out, OPT_STRUCTURED_REPLY, new byte[0]);
        if (meta) {
            option(out, OPT_SET_META_CONTEXT, RawClient.metaData("disk", CONTEXT_BASE_ALLOCATION));
        }
        option(out, OPT_GO, RawClient.infoData("disk"));
        int requests = d.consumeInt(0, 32);
        for (int i = 0; i < requests && d.remainingBytes() > 0; i++) {
            int type = d.consumeInt(0, 9);
            int flags = d.consumeBoolean() ? 0 : d.consumeInt(0, 0xffff);
            long offset = d.consumeBoolean() ? d.consumeLong(0, SIZE_BYTES / 512) * 512 : d.consumeLong();
            long length = d.consumeBoolean() ? d.consumeLong(0, 256) * 512 : d.consumeLong(0, 0xffff_ffffL);
            int magic = d.consumeInt(0, 15) == 0 ? d.consumeInt() : REQUEST_MAGIC;
            ByteBuffer h = RequestDescriptor.write(flags, type, i, offset, length);
            h.putInt(0, magic);
            out.writeBytes(h.array());
            if (type == CMD_WRITE) {
                int have = (int) Math.min(length, 1 << 20);
                out.writeBytes(d.consumeBytes(have)); // may be short: the stream then ends mid-payload
            }
        }
        return out.toByteArray();
    }

    private static void option(ByteArrayOutputStream out, int option, byte[] data) {
        out.writeBytes(OptionDescriptor.header(option, data.length).array());
        out.writeBytes(data);
    }

    /** Greeting, option replies, then only simple replies and structured chunks, each whole. */
    private static void checkReplies(byte[] out) {
        ByteBuffer b = ByteBuffer.wrap(out);
        assertEquals(NBDMAGIC, b.getLong());
        b.position(HandshakeDescriptor.GREETING_BYTES);
        while (b.remaining() >= 8 && b.getLong(b.position()) == OPTION_REPLY_MAGIC) {
            b.position(b.position() + 16);
            int length = b.getInt();
            b.position(b.position() + length);
        }
        while (b.hasRemaining()) {
            assertTrue(b.remaining() >= 16, "a truncated reply header");
            int magic = b.getInt();
            if (magic == SIMPLE_REPLY_MAGIC) {
                b.position(b.position() + 12);
                continue;
            }
            assertEquals(STRUCTURED_REPLY_MAGIC, magic, "reply magic");
            assertTrue(b.remaining() >= 16, "a truncated chunk header");
            b.position(b.position() + 12);
            int length = b.getInt();
            assertTrue(length >= 0 && length <= b.remaining(), "chunk payload written whole");
            b.position(b.position() + length);
        }
        assertNotNull(out);
    }
}

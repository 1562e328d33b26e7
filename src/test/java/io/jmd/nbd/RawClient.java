package io.jmd.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.jmd.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A byte-level NBD client for tests: it sends exactly what it is told, so tests can break the
 * protocol on purpose, pipeline requests and read replies in any order.
 */
final class RawClient implements AutoCloseable {
    record OptionReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** One whole reply: simple, or all chunks of a structured one up to DONE. */
    record Response(long cookie, int error, byte[] data, List<long[]> extents, boolean structured) {
    }

    final SocketChannel channel;
    int handshakeFlags;
    long exportSize;
    int transmissionFlags;
    boolean structured;
    int minBlock;
    int maxBlock;
    /** Cookie to length of READs sent, for reading simple replies' data. */
    private final Map<Long, Long> pendingReads = new HashMap<>();

    RawClient(SocketAddress address) throws IOException {
        channel = SocketChannel.open(address);
    }

    static RawClient connect(NbdServer server) throws IOException {
        return new RawClient(new InetSocketAddress("127.0.0.1", server.tcpPort()));
    }

    // ---- handshake ----

    int greeting() throws IOException {
        ByteBuffer g = read(HandshakeDescriptor.GREETING_BYTES);
        assertEquals(NBDMAGIC, g.getLong(0));
        assertEquals(IHAVEOPT, g.getLong(8));
        handshakeFlags = Short.toUnsignedInt(g.getShort(16));
        return handshakeFlags;
    }

    void clientFlags(int flags) throws IOException {
        write(ByteBuffer.allocate(4).putInt(0, flags));
    }

    void option(int option, byte[] data) throws IOException {
        ByteBuffer h = OptionDescriptor.header(option, data.length);
        write(h, ByteBuffer.wrap(data));
    }

    OptionReply optionReply() throws IOException {
        ByteBuffer h = read(OptionDescriptor.REPLY_HEADER_BYTES);
        assertEquals(OPTION_REPLY_MAGIC, h.getLong(0));
        int length = h.getInt(16);
        return new OptionReply(h.getInt(8), h.getInt(12), read(length).array());
    }

    static byte[] infoData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length);
        b.putInt(n.length).put(n).putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.array();
    }

    static byte[] metaData(String name, String... queries) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        int size = 8 + n.length;
        for (String q : queries) {
            size += 4 + q.getBytes(StandardCharsets.UTF_8).length;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.putInt(n.length).put(n).putInt(queries.length);
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            b.putInt(qb.length).put(qb);
        }
        return b.array();
    }

    /** The usual modern handshake: structured replies, base:allocation, GO. */
    RawClient negotiate(String export, boolean structuredReplies, boolean baseAllocation) throws IOException {
        greeting();
        clientFlags(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
        if (structuredReplies) {
            option(OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(REP_ACK, optionReply().type());
            structured = true;
        }
        if (baseAllocation) {
            option(OPT_SET_META_CONTEXT, metaData(export, CONTEXT_BASE_ALLOCATION));
            OptionReply r = optionReply();
            assertEquals(REP_META_CONTEXT, r.type());
            assertEquals(REP_ACK, optionReply().type());
        }
        option(OPT_GO, infoData(export, INFO_BLOCK_SIZE));
        while (true) {
            OptionReply r = optionReply();
            if (r.type() == REP_ACK) {
                break;
            }
            assertEquals(REP_INFO, r.type(), () -> "GO failed: " + Integer.toHexString(r.type()) + " " + r.text());
            ByteBuffer d = ByteBuffer.wrap(r.data());
            int info = d.getShort();
            if (info == INFO_EXPORT) {
                exportSize = d.getLong();
                transmissionFlags = Short.toUnsignedInt(d.getShort());
            } else if (info == INFO_BLOCK_SIZE) {
                minBlock = d.getInt();
                d.getInt();
                maxBlock = d.getInt();
            }
        }
        return this;
    }

    // ---- transmission ----

    void request(int flags, int type, long cookie, long offset, long length) throws IOException {
        if (type == CMD_READ) {
            pendingReads.put(cookie, length);
        }
        write(RequestDescriptor.write(flags, type, cookie, offset, length));
    }

    /** Records a READ sent by hand, so its simple reply's data can be read. */
    void expectRead(long cookie, long length) {
        pendingReads.put(cookie, length);
    }

    void write(long cookie, long offset, byte[] data, int flags) throws IOException {
        write(RequestDescriptor.write(flags, CMD_WRITE, cookie, offset, data.length), ByteBuffer.wrap(data));
    }

    Response response() throws IOException {
        ByteBuffer magic = read(4);
        int m = magic.getInt(0);
        if (m == SIMPLE_REPLY_MAGIC) {
            ByteBuffer h = read(12);
            int error = h.getInt(0);
            long cookie = h.getLong(4);
            Long readLength = pendingReads.remove(cookie);
            byte[] data = error == 0 && readLength != null ? read(Math.toIntExact(readLength)).array() : new byte[0];
            return new Response(cookie, error, data, List.of(), false);
        }
        assertEquals(STRUCTURED_REPLY_MAGIC, m, "reply magic");
        long cookie = 0;
        int error = 0;
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        List<long[]> extents = new ArrayList<>();
        boolean first = true;
        while (true) {
            if (!first) {
                assertEquals(STRUCTURED_REPLY_MAGIC, read(4).getInt(0), "chunk magic");
            }
            first = false;
            ByteBuffer h = read(16);
            int flags = Short.toUnsignedInt(h.getShort(0));
            int type = Short.toUnsignedInt(h.getShort(2));
            cookie = h.getLong(4);
            ByteBuffer p = read(h.getInt(12));
            switch (type) {
                case REPLY_TYPE_NONE -> { }
                case REPLY_TYPE_OFFSET_DATA -> {
                    p.getLong();
                    data.write(p.array(), 8, p.capacity() - 8);
                }
                case REPLY_TYPE_ERROR -> error = p.getInt();
                case REPLY_TYPE_BLOCK_STATUS -> {
                    p.getInt();
                    while (p.hasRemaining()) {
                        extents.add(new long[] {Integer.toUnsignedLong(p.getInt()), p.getInt()});
                    }
                }
                default -> throw new AssertionError("unexpected chunk type " + type);
            }
            if ((flags & REPLY_FLAG_DONE) != 0) {
                pendingReads.remove(cookie);
                return new Response(cookie, error, data.toByteArray(), extents, true);
            }
        }
    }

    // ---- bytes ----

    void write(ByteBuffer... buffers) throws IOException {
        long left = 0;
        for (ByteBuffer b : buffers) {
            left += b.remaining();
        }
        while (left > 0) {
            left -= channel.write(buffers);
        }
    }

    ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("server closed after " + b.position() + " of " + n + " bytes");
            }
        }
        return b.flip();
    }

    /** True if the server closed the connection (reads end of stream) within the socket's patience. */
    boolean closedByServer() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1);
        try {
            return channel.read(b) < 0;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}

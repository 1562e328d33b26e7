package io.jmd.nbd;

import java.nio.ByteBuffer;

/**
 * A transmission request (compact header; extended headers are not negotiated). Big-endian.
 *
 * <pre>
 * Request (28 bytes), followed by `length` bytes of payload for NBD_CMD_WRITE only
 *   0  u32  0x25609513
 *   4  u16  command flags
 *   6  u16  command type
 *   8  u64  cookie (opaque to the server, echoed in the reply)
 *  16  u64  offset (unsigned)
 *  24  u32  length (unsigned)
 * </pre>
 */
public final class RequestDescriptor {
    public static final int BYTES = 28;
    static final int MAGIC_OFFSET = 0;
    static final int FLAGS_OFFSET = 4;
    static final int TYPE_OFFSET = 6;
    static final int COOKIE_OFFSET = 8;
    static final int OFFSET_OFFSET = 16;
    static final int LENGTH_OFFSET = 24;

    private RequestDescriptor() {
    }

    /** Reads the header in {@code b} (exactly 28 bytes); the magic is checked by the caller. */
    static Request read(ByteBuffer b) {
        assert b.limit() == BYTES : "request header is 28 bytes, got " + b.limit();
        Request r = new Request(
            b.getInt(MAGIC_OFFSET),
            Short.toUnsignedInt(b.getShort(FLAGS_OFFSET)),
            Short.toUnsignedInt(b.getShort(TYPE_OFFSET)),
            b.getLong(COOKIE_OFFSET),
            b.getLong(OFFSET_OFFSET),
            Integer.toUnsignedLong(b.getInt(LENGTH_OFFSET)));
        assert r.flags() <= 0xffff && r.type() <= 0xffff : "u16 fields widened wrongly";
        assert r.lengthBytes() >= 0 && r.lengthBytes() <= 0xffff_ffffL : "u32 length widened wrongly";
        return r;
    }

    /** Encodes a request (the client, and tests and fuzz targets playing one). */
    public static ByteBuffer write(int flags, int type, long cookie, long offset, long lengthBytes) {
        ByteBuffer b = ByteBuffer.allocate(BYTES);
        put(b, flags, type, cookie, offset, lengthBytes);
        return b;
    }

    /** Encodes a request into the first 28 bytes of {@code b} (absolute puts; position untouched). */
    public static void put(ByteBuffer b, int flags, int type, long cookie, long offset, long lengthBytes) {
        assert lengthBytes >= 0 && lengthBytes <= 0xffff_ffffL : "length is u32";
        assert b.capacity() >= BYTES : "request header is 28 bytes";
        b.putInt(MAGIC_OFFSET, NbdProtocol.REQUEST_MAGIC);
        b.putShort(FLAGS_OFFSET, (short) flags);
        b.putShort(TYPE_OFFSET, (short) type);
        b.putLong(COOKIE_OFFSET, cookie);
        b.putLong(OFFSET_OFFSET, offset);
        b.putInt(LENGTH_OFFSET, (int) lengthBytes);
    }
}

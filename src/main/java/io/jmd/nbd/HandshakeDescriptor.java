package io.jmd.nbd;

import java.nio.ByteBuffer;

/**
 * The fixed-size messages that open a newstyle session and the reply that ends it with
 * NBD_OPT_EXPORT_NAME. All big-endian.
 *
 * <pre>
 * Server greeting (18 bytes)
 *   0  u64  NBDMAGIC
 *   8  u64  IHAVEOPT (newstyle)
 *  16  u16  handshake flags (FIXED_NEWSTYLE | NO_ZEROES)
 *
 * Client flags (4 bytes)
 *   0  u32  client flags
 *
 * NBD_OPT_EXPORT_NAME success (134 bytes, or 10 with NO_ZEROES)
 *   0  u64  export size in bytes
 *   8  u16  transmission flags
 *  10  124  zero bytes (omitted when the client set NO_ZEROES)
 * </pre>
 */
public final class HandshakeDescriptor {
    public static final int GREETING_BYTES = 18;
    static final int GREETING_MAGIC_OFFSET = 0;
    static final int GREETING_VERSION_OFFSET = 8;
    static final int GREETING_FLAGS_OFFSET = 16;

    public static final int CLIENT_FLAGS_BYTES = 4;

    static final int EXPORT_NAME_REPLY_SIZE_OFFSET = 0;
    static final int EXPORT_NAME_REPLY_FLAGS_OFFSET = 8;
    public static final int EXPORT_NAME_REPLY_ZEROES_OFFSET = 10;
    static final int EXPORT_NAME_REPLY_ZEROES_BYTES = 124;
    public static final int EXPORT_NAME_REPLY_BYTES = EXPORT_NAME_REPLY_ZEROES_OFFSET + EXPORT_NAME_REPLY_ZEROES_BYTES;

    private HandshakeDescriptor() {
    }

    static ByteBuffer greeting(int handshakeFlags) {
        assert (handshakeFlags & ~0xffff) == 0 : "handshake flags are u16: " + handshakeFlags;
        ByteBuffer b = ByteBuffer.allocate(GREETING_BYTES);
        b.putLong(GREETING_MAGIC_OFFSET, NbdProtocol.NBDMAGIC);
        b.putLong(GREETING_VERSION_OFFSET, NbdProtocol.IHAVEOPT);
        b.putShort(GREETING_FLAGS_OFFSET, (short) handshakeFlags);
        assert b.getLong(GREETING_VERSION_OFFSET) == NbdProtocol.IHAVEOPT;
        return b;
    }

    /** The greeting as a client reads it; the caller checks the magics. */
    public record Greeting(long magic, long version, int flags) {
    }

    public static Greeting readGreeting(ByteBuffer b) {
        assert b.limit() == GREETING_BYTES : "greeting is 18 bytes";
        return new Greeting(b.getLong(GREETING_MAGIC_OFFSET), b.getLong(GREETING_VERSION_OFFSET),
            Short.toUnsignedInt(b.getShort(GREETING_FLAGS_OFFSET)));
    }

    /** The client's answer to the greeting. */
    public static ByteBuffer clientFlagsMessage(int clientFlags) {
        return ByteBuffer.allocate(CLIENT_FLAGS_BYTES).putInt(0, clientFlags);
    }

    /** Export size of an NBD_OPT_EXPORT_NAME success (the first 10 bytes are enough). */
    public static long exportNameReplySize(ByteBuffer b) {
        return b.getLong(EXPORT_NAME_REPLY_SIZE_OFFSET);
    }

    /** Transmission flags of an NBD_OPT_EXPORT_NAME success. */
    public static int exportNameReplyFlags(ByteBuffer b) {
        return Short.toUnsignedInt(b.getShort(EXPORT_NAME_REPLY_FLAGS_OFFSET));
    }

    static int clientFlags(ByteBuffer b) {
        assert b.limit() == CLIENT_FLAGS_BYTES : "client flags are 4 bytes";
        return b.getInt(0);
    }

    static ByteBuffer exportNameReply(long sizeBytes, int transmissionFlags, boolean noZeroes) {
        assert sizeBytes >= 0 : "negative export size " + sizeBytes;
        assert (transmissionFlags & NbdProtocol.TFLAG_HAS_FLAGS) != 0 : "HAS_FLAGS must be set";
        ByteBuffer b = ByteBuffer.allocate(noZeroes ? EXPORT_NAME_REPLY_ZEROES_OFFSET : EXPORT_NAME_REPLY_BYTES);
        b.putLong(EXPORT_NAME_REPLY_SIZE_OFFSET, sizeBytes);
        b.putShort(EXPORT_NAME_REPLY_FLAGS_OFFSET, (short) transmissionFlags);
        return b;
    }
}

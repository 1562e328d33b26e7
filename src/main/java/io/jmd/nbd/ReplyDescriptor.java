package io.jmd.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Transmission replies. Big-endian.
 *
 * <pre>
 * Simple reply (16 bytes), followed by the data of a successful NBD_CMD_READ
 *   0  u32  0x67446698
 *   4  u32  error (0 or an NBD errno)
 *   8  u64  cookie
 *
 * Structured reply chunk (20 bytes), followed by `length` bytes of payload
 *   0  u32  0x668e33ef
 *   4  u16  flags (DONE = 1)
 *   6  u16  type
 *   8  u64  cookie
 *  16  u32  payload length
 *
 * Chunk payloads
 *   OFFSET_DATA   0 u64 offset, 8 data                         (length = 8 + data)
 *   OFFSET_HOLE   0 u64 offset, 8 u32 hole length              (length = 12)
 *   ERROR         0 u32 error, 4 u16 message length M, 6 message (length = 6 + M)
 *   ERROR_OFFSET  as ERROR, then 6+M u64 offset                 (length = 14 + M)
 *   NONE          no payload, only with DONE                    (length = 0)
 *   BLOCK_STATUS  0 u32 context id, then per descriptor at 4 + 8i:
 *                 u32 extent length (non-zero), u32 status flags (length = 4 + 8n)
 * </pre>
 */
public final class ReplyDescriptor {
    public static final int SIMPLE_BYTES = 16;
    static final int SIMPLE_MAGIC_OFFSET = 0;
    static final int SIMPLE_ERROR_OFFSET = 4;
    static final int SIMPLE_COOKIE_OFFSET = 8;

    public static final int CHUNK_BYTES = 20;
    static final int CHUNK_MAGIC_OFFSET = 0;
    static final int CHUNK_FLAGS_OFFSET = 4;
    static final int CHUNK_TYPE_OFFSET = 6;
    static final int CHUNK_COOKIE_OFFSET = 8;
    static final int CHUNK_LENGTH_OFFSET = 16;

    public static final int OFFSET_DATA_PREFIX_BYTES = 8;
    public static final int ERROR_PREFIX_BYTES = 6;
    /** OFFSET_HOLE payload: u64 offset, u32 hole length. */
    public static final int OFFSET_HOLE_BYTES = 12;
    /** ERROR_OFFSET: the u64 offset that follows the message. */
    public static final int ERROR_OFFSET_SUFFIX_BYTES = 8;
    static final int BLOCK_STATUS_PREFIX_BYTES = 4;
    static final int BLOCK_DESCRIPTOR_BYTES = 8;

    /** Longest error message we send; the field is u16 but clients only show it to a human. */
    static final int ERROR_MESSAGE_MAX_BYTES = 256;
    /** Room for the longest header sequence we ever write ahead of a payload. */
    static final int HEADER_SCRATCH_BYTES = CHUNK_BYTES + ERROR_PREFIX_BYTES + ERROR_MESSAGE_MAX_BYTES;

    private ReplyDescriptor() {
    }

    // ---- reading, for the client: every magic, simple and structured, starts with the u32 magic ----

    /** The magic of a reply header (simple or chunk). */
    public static int magic(ByteBuffer b) {
        return b.getInt(SIMPLE_MAGIC_OFFSET);
    }

    /** Error field of a simple reply (u32 on the wire; an errno fits an int). */
    public static int simpleError(ByteBuffer b) {
        return b.getInt(SIMPLE_ERROR_OFFSET);
    }

    public static long simpleCookie(ByteBuffer b) {
        return b.getLong(SIMPLE_COOKIE_OFFSET);
    }

    public static int chunkFlags(ByteBuffer b) {
        return Short.toUnsignedInt(b.getShort(CHUNK_FLAGS_OFFSET));
    }

    public static int chunkType(ByteBuffer b) {
        return Short.toUnsignedInt(b.getShort(CHUNK_TYPE_OFFSET));
    }

    public static long chunkCookie(ByteBuffer b) {
        return b.getLong(CHUNK_COOKIE_OFFSET);
    }

    /** Chunk payload length, the u32 widened. */
    public static long chunkLength(ByteBuffer b) {
        return Integer.toUnsignedLong(b.getInt(CHUNK_LENGTH_OFFSET));
    }

    static void simple(ByteBuffer b, int error, long cookie) {
        assert error >= 0 : "negative error " + error;
        b.putInt(NbdProtocol.SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie);
    }

    static void chunk(ByteBuffer b, int flags, int type, long cookie, long payloadBytes) {
        assert payloadBytes >= 0 && payloadBytes <= 0xffff_ffffL : "chunk payload is u32: " + payloadBytes;
        assert type != NbdProtocol.REPLY_TYPE_NONE || payloadBytes == 0 : "NONE chunk carries no payload";
        b.putInt(NbdProtocol.STRUCTURED_REPLY_MAGIC).putShort((short) flags).putShort((short) type)
            .putLong(cookie).putInt((int) payloadBytes);
    }

    /** OFFSET_DATA chunk header plus its offset prefix; the data follows. */
    static void offsetData(ByteBuffer b, long cookie, long offsetBytes, long dataBytes, boolean done) {
        assert dataBytes > 0 : "OFFSET_DATA describes at least one byte";
        chunk(b, done ? NbdProtocol.REPLY_FLAG_DONE : 0, NbdProtocol.REPLY_TYPE_OFFSET_DATA, cookie,
            OFFSET_DATA_PREFIX_BYTES + dataBytes);
        b.putLong(offsetBytes);
    }

    /** A final ERROR chunk with a short message. */
    static void error(ByteBuffer b, long cookie, int error, String message) {
        assert error > 0 : "an error chunk needs a non-zero error";
        byte[] m = truncatedUtf8(message);
        chunk(b, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_ERROR, cookie, ERROR_PREFIX_BYTES + m.length);
        b.putInt(error).putShort((short) m.length).put(m);
    }

    /** BLOCK_STATUS chunk header; {@code descriptors} (context id and n x 8 bytes) follow. */
    static void blockStatus(ByteBuffer b, long cookie, int payloadBytes) {
        assert payloadBytes >= BLOCK_STATUS_PREFIX_BYTES + BLOCK_DESCRIPTOR_BYTES : "at least one descriptor";
        assert (payloadBytes - BLOCK_STATUS_PREFIX_BYTES) % BLOCK_DESCRIPTOR_BYTES == 0 : "whole descriptors";
        chunk(b, NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.REPLY_TYPE_BLOCK_STATUS, cookie, payloadBytes);
    }

    static byte[] truncatedUtf8(String message) {
        byte[] m = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        if (m.length <= ERROR_MESSAGE_MAX_BYTES) {
            return m;
        }
        // Cut on a character boundary: back off over UTF-8 continuation bytes (10xxxxxx).
        int n = ERROR_MESSAGE_MAX_BYTES;
        while (n > 0 && (m[n] & 0xc0) == 0x80) {
            n--;
        }
        return java.util.Arrays.copyOf(m, n);
    }
}

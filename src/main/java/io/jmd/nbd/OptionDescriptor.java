package io.jmd.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Option haggling messages (fixed newstyle). All big-endian.
 *
 * <pre>
 * Option request header (16 bytes), followed by `length` bytes of data
 *   0  u64  IHAVEOPT
 *   8  u32  option
 *  12  u32  data length
 *
 * Option reply header (20 bytes), followed by `length` bytes of data
 *   0  u64  0x0003e889045565a9
 *   8  u32  option being answered
 *  12  u32  reply type (ACK, SERVER, INFO, META_CONTEXT, or bit 31 set for errors)
 *  16  u32  data length
 *
 * NBD_OPT_INFO / NBD_OPT_GO data
 *   0      u32  name length N
 *   4      N    export name
 *   4+N    u16  number of information requests K
 *   6+N    K x u16 NBD_INFO_* types
 *
 * NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT data
 *   0      u32  name length N
 *   4      N    export name
 *   4+N    u32  number of queries Q
 *   8+N    Q x (u32 query length L, L bytes query)
 *
 * NBD_REP_SERVER data:        0 u32 name length N, 4 name, 4+N description (rest of the reply)
 * NBD_REP_META_CONTEXT data:  0 u32 context id, 4 context name (rest of the reply)
 * NBD_REP_INFO data:          0 u16 NBD_INFO_* type, then
 *   EXPORT      2 u64 size, 10 u16 transmission flags            (12 bytes)
 *   NAME        2 name                                           (2 + N bytes)
 *   DESCRIPTION 2 description                                    (2 + N bytes)
 *   BLOCK_SIZE  2 u32 minimum, 6 u32 preferred, 10 u32 maximum   (14 bytes)
 * Error replies may carry a UTF-8 message as their data.
 * </pre>
 */
public final class OptionDescriptor {
    static final int HEADER_BYTES = 16;
    static final int HEADER_MAGIC_OFFSET = 0;
    static final int HEADER_OPTION_OFFSET = 8;
    static final int HEADER_LENGTH_OFFSET = 12;

    public static final int REPLY_HEADER_BYTES = 20;
    static final int REPLY_MAGIC_OFFSET = 0;
    static final int REPLY_OPTION_OFFSET = 8;
    static final int REPLY_TYPE_OFFSET = 12;
    static final int REPLY_LENGTH_OFFSET = 16;

    public static final int INFO_EXPORT_BYTES = 12;
    public static final int INFO_BLOCK_SIZE_BYTES = 14;

    private OptionDescriptor() {
    }

    /** A parsed option header; {@code lengthBytes} is the unsigned u32 widened. */
    record Header(long magic, int option, long lengthBytes) {
    }

    static Header readHeader(ByteBuffer b) {
        assert b.limit() == HEADER_BYTES : "option header is 16 bytes";
        return new Header(b.getLong(HEADER_MAGIC_OFFSET), b.getInt(HEADER_OPTION_OFFSET),
            Integer.toUnsignedLong(b.getInt(HEADER_LENGTH_OFFSET)));
    }

    public static ByteBuffer header(int option, int lengthBytes) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
        b.putLong(HEADER_MAGIC_OFFSET, NbdProtocol.IHAVEOPT);
        b.putInt(HEADER_OPTION_OFFSET, option);
        b.putInt(HEADER_LENGTH_OFFSET, lengthBytes);
        return b;
    }

    /** An option reply header as a client reads it; {@code lengthBytes} is the u32 widened. */
    public record ReplyHeader(long magic, int option, int type, long lengthBytes) {
    }

    public static ReplyHeader readReplyHeader(ByteBuffer b) {
        assert b.limit() == REPLY_HEADER_BYTES : "option reply header is 20 bytes";
        return new ReplyHeader(b.getLong(REPLY_MAGIC_OFFSET), b.getInt(REPLY_OPTION_OFFSET), b.getInt(REPLY_TYPE_OFFSET),
            Integer.toUnsignedLong(b.getInt(REPLY_LENGTH_OFFSET)));
    }

    /** NBD_OPT_INFO / NBD_OPT_GO data: the export name and the NBD_INFO_* types asked for. */
    public static byte[] infoRequestData(byte[] name, int... infoTypes) {
        ByteBuffer b = ByteBuffer.allocate(4 + name.length + 2 + 2 * infoTypes.length);
        b.putInt(name.length).put(name).putShort((short) infoTypes.length);
        for (int t : infoTypes) {
            b.putShort((short) t);
        }
        return b.array();
    }

    /** The NBD_INFO_* type of an NBD_REP_INFO's data (at least 2 bytes, checked by the caller). */
    public static int infoType(ByteBuffer data) {
        return Short.toUnsignedInt(data.getShort(0));
    }

    /** NBD_INFO_EXPORT's size (data of {@link #INFO_EXPORT_BYTES}). */
    public static long infoExportSize(ByteBuffer data) {
        return data.getLong(2);
    }

    /** NBD_INFO_EXPORT's transmission flags. */
    public static int infoExportFlags(ByteBuffer data) {
        return Short.toUnsignedInt(data.getShort(10));
    }

    /** NBD_INFO_BLOCK_SIZE's minimum, preferred, maximum (data of {@link #INFO_BLOCK_SIZE_BYTES}; u32 widened). */
    public static long[] infoBlockSizes(ByteBuffer data) {
        return new long[] {Integer.toUnsignedLong(data.getInt(2)), Integer.toUnsignedLong(data.getInt(6)),
            Integer.toUnsignedLong(data.getInt(10))};
    }

    /** A whole reply: header plus {@code data} (which may be empty). */
    static ByteBuffer reply(int option, int type, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(REPLY_HEADER_BYTES + data.length);
        b.putLong(REPLY_MAGIC_OFFSET, NbdProtocol.OPTION_REPLY_MAGIC);
        b.putInt(REPLY_OPTION_OFFSET, option);
        b.putInt(REPLY_TYPE_OFFSET, type);
        b.putInt(REPLY_LENGTH_OFFSET, data.length);
        b.put(REPLY_HEADER_BYTES, data);
        assert b.getInt(REPLY_LENGTH_OFFSET) == b.capacity() - REPLY_HEADER_BYTES : "reply length mismatch";
        return b;
    }

    static byte[] serverData(byte[] name, byte[] description) {
        ByteBuffer b = ByteBuffer.allocate(4 + name.length + description.length);
        b.putInt(name.length).put(name).put(description);
        return b.array();
    }

    static byte[] metaContextData(int contextId, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length);
        b.putInt(contextId).put(n);
        return b.array();
    }

    static byte[] infoExport(long sizeBytes, int transmissionFlags) {
        assert sizeBytes >= 0 : "negative export size";
        ByteBuffer b = ByteBuffer.allocate(INFO_EXPORT_BYTES);
        b.putShort((short) NbdProtocol.INFO_EXPORT).putLong(sizeBytes).putShort((short) transmissionFlags);
        return b.array();
    }

    static byte[] infoString(int infoType, byte[] value) {
        assert infoType == NbdProtocol.INFO_NAME || infoType == NbdProtocol.INFO_DESCRIPTION : "not a string info";
        ByteBuffer b = ByteBuffer.allocate(2 + value.length);
        b.putShort((short) infoType).put(value);
        return b.array();
    }

    static byte[] infoBlockSize(int minimumBytes, int preferredBytes, int maximumBytes) {
        assert Integer.bitCount(minimumBytes) == 1 && minimumBytes <= 65536 : "minimum " + minimumBytes;
        assert Integer.bitCount(preferredBytes) == 1 && preferredBytes >= Math.max(minimumBytes, 512) : "preferred " + preferredBytes;
        assert maximumBytes % minimumBytes == 0 && maximumBytes >= preferredBytes : "maximum " + maximumBytes;
        ByteBuffer b = ByteBuffer.allocate(INFO_BLOCK_SIZE_BYTES);
        b.putShort((short) NbdProtocol.INFO_BLOCK_SIZE).putInt(minimumBytes).putInt(preferredBytes).putInt(maximumBytes);
        return b.array();
    }
}

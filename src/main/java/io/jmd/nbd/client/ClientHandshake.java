package io.jmd.nbd.client;

import io.jmd.nbd.HandshakeDescriptor;
import io.jmd.nbd.NbdProtocol;
import io.jmd.nbd.NbdTransport;
import io.jmd.nbd.OptionDescriptor;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static io.jmd.nbd.NbdProtocol.*;

/**
 * The client side of fixed newstyle negotiation (proto.md), run once on the opening thread before
 * transmission starts:
 *
 * <pre>
 *  greeting (NBDMAGIC, IHAVEOPT, flags) ─► client flags
 *  [NBD_OPT_STRUCTURED_REPLY ─► ACK | error]           when asked for and the server is fixed newstyle
 *  NBD_OPT_GO(name, [NBD_INFO_BLOCK_SIZE]) ─► INFO* ─► ACK
 *     └ NBD_REP_ERR_UNSUP (an old server) or no fixed newstyle ─► NBD_OPT_EXPORT_NAME ─► size, flags
 * </pre>
 *
 * Everything the server sends is checked: magics, that each reply answers the option asked,
 * lengths (an option reply longer than {@link #OPTION_REPLY_MAX_BYTES} is refused rather than
 * buffered), and the values of NBD_INFO_EXPORT and NBD_INFO_BLOCK_SIZE. A refusal (no such
 * export, policy, TLS required) is an IOException carrying the server's message; anything
 * malformed is an {@link NbdProtocolError}. The caller bounds the time this takes by closing the
 * transport.
 */
final class ClientHandshake {
    /** The greeting's version field of an oldstyle server (no options, no export names). */
    static final long OLDSTYLE_VERSION = 0x00420281861253L;
    /** Option replies carry short infos and messages; more than this is not a reply we understand. */
    static final int OPTION_REPLY_MAX_BYTES = 64 * 1024;

    private final NbdTransport transport;
    private final String exportName;
    private final byte[] exportNameUtf8;
    private final String where;

    private ClientHandshake(NbdTransport transport, String exportName, String where) {
        this.transport = transport;
        this.exportName = exportName;
        this.exportNameUtf8 = exportName.getBytes(StandardCharsets.UTF_8);
        this.where = where;
    }

    /** Negotiates {@code exportName}; {@code where} names the server in messages. */
    static ExportInfo run(NbdTransport transport, String exportName, boolean structuredWanted, String where)
        throws IOException {
        return new ClientHandshake(transport, exportName, where).run(structuredWanted);
    }

    private ExportInfo run(boolean structuredWanted) throws IOException {
        HandshakeDescriptor.Greeting g = HandshakeDescriptor.readGreeting(read(HandshakeDescriptor.GREETING_BYTES, "greeting"));
        if (g.magic() != NBDMAGIC) {
            throw new NbdProtocolError(where + " is not an NBD server (greeting starts 0x" + Long.toHexString(g.magic()) + ")");
        }
        if (g.version() == OLDSTYLE_VERSION) {
            throw new NbdProtocolError(where + " speaks oldstyle NBD negotiation, which has no export names; jmd needs"
                + " a newstyle server");
        }
        if (g.version() != IHAVEOPT) {
            throw new NbdProtocolError(where + ": unknown NBD negotiation version 0x" + Long.toHexString(g.version()));
        }
        boolean fixed = (g.flags() & FLAG_FIXED_NEWSTYLE) != 0;
        boolean noZeroes = (g.flags() & FLAG_NO_ZEROES) != 0;
        transport.write(HandshakeDescriptor.clientFlagsMessage((fixed ? FLAG_FIXED_NEWSTYLE : 0) | (noZeroes ? FLAG_NO_ZEROES : 0)));
        if (!fixed) {
            return exportName(noZeroes); // plain newstyle: an unknown option would end the session
        }
        boolean structured = structuredWanted && structuredReplies();
        ExportInfo info = go(structured);
        return info != null ? info : exportName(noZeroes).withStructured(structured);
    }

    /** NBD_OPT_STRUCTURED_REPLY: true if acknowledged; a refusal just means simple replies. */
    private boolean structuredReplies() throws IOException {
        transport.write(OptionDescriptor.header(OPT_STRUCTURED_REPLY, 0));
        OptionReply r = reply(OPT_STRUCTURED_REPLY);
        if (r.type == REP_ACK) {
            if (r.data.remaining() != 0) {
                throw new NbdProtocolError(where + ": ACK to STRUCTURED_REPLY carries " + r.data.remaining() + " bytes");
            }
            return true;
        }
        if ((r.type & REP_FLAG_ERROR) != 0) {
            return false;
        }
        throw new NbdProtocolError(where + ": unexpected reply type 0x" + Integer.toHexString(r.type)
            + " to STRUCTURED_REPLY");
    }

    /** NBD_OPT_GO; null if the server does not know it (then EXPORT_NAME is the way in). */
    private ExportInfo go(boolean structured) throws IOException {
        byte[] data = OptionDescriptor.infoRequestData(exportNameUtf8, INFO_BLOCK_SIZE);
        transport.write(OptionDescriptor.header(OPT_GO, data.length), ByteBuffer.wrap(data));
        long size = -1;
        int flags = 0;
        long[] blocks = null;
        while (true) {
            OptionReply r = reply(OPT_GO);
            switch (r.type) {
                case REP_INFO -> {
                    if (r.data.remaining() < 2) {
                        throw new NbdProtocolError(where + ": NBD_REP_INFO of " + r.data.remaining() + " bytes");
                    }
                    int type = OptionDescriptor.infoType(r.data);
                    if (type == INFO_EXPORT) {
                        expectLength(r, OptionDescriptor.INFO_EXPORT_BYTES, "NBD_INFO_EXPORT");
                        size = OptionDescriptor.infoExportSize(r.data);
                        flags = OptionDescriptor.infoExportFlags(r.data);
                        if (size < 0) {
                            throw new NbdProtocolError(where + ": export size " + Long.toUnsignedString(size) + " is too large");
                        }
                    } else if (type == INFO_BLOCK_SIZE) {
                        expectLength(r, OptionDescriptor.INFO_BLOCK_SIZE_BYTES, "NBD_INFO_BLOCK_SIZE");
                        blocks = checkedBlockSizes(OptionDescriptor.infoBlockSizes(r.data));
                    }
                    // NAME, DESCRIPTION and types this client does not know are ignored, as proto.md asks.
                }
                case REP_ACK -> {
                    if (size < 0) {
                        throw new NbdProtocolError(where + ": GO acknowledged without NBD_INFO_EXPORT");
                    }
                    return info(size, flags, blocks, structured);
                }
                case REP_ERR_UNSUP -> {
                    return null;
                }
                default -> throw refusal(r);
            }
        }
    }

    /** NBD_OPT_EXPORT_NAME: the server answers with size and flags, or closes the connection. */
    private ExportInfo exportName(boolean noZeroes) throws IOException {
        transport.write(OptionDescriptor.header(OPT_EXPORT_NAME, exportNameUtf8.length), ByteBuffer.wrap(exportNameUtf8));
        int n = noZeroes ? HandshakeDescriptor.EXPORT_NAME_REPLY_ZEROES_OFFSET : HandshakeDescriptor.EXPORT_NAME_REPLY_BYTES;
        ByteBuffer b;
        try {
            b = read(n, "EXPORT_NAME reply");
        } catch (EOFException e) {
            throw new IOException(where + " closed the connection on export '" + exportName
                + "' (no such export, or not allowed)", e);
        }
        long size = HandshakeDescriptor.exportNameReplySize(b);
        if (size < 0) {
            throw new NbdProtocolError(where + ": export size " + Long.toUnsignedString(size) + " is too large");
        }
        return info(size, HandshakeDescriptor.exportNameReplyFlags(b), null, false);
    }

    private ExportInfo info(long size, int flags, long[] blocks, boolean structured) {
        int min = blocks == null ? 1 : (int) blocks[0];
        int preferred = blocks == null ? 4096 : (int) blocks[1];
        long max = blocks == null ? ExportInfo.DEFAULT_MAX_PAYLOAD_BYTES : blocks[2];
        // A cap on what we send: no need for more than 32 MiB per request, and never past the export.
        long cap = Math.min(Math.min(max, ExportInfo.DEFAULT_MAX_PAYLOAD_BYTES), Math.max(size, min));
        cap -= cap % Math.max(min, cap >= 4096 ? 4096 : 1); // whole pages: split requests stay aligned
        return new ExportInfo(size, (flags & TFLAG_HAS_FLAGS) != 0 ? flags : 0, min, preferred,
            (int) Math.max(cap, min), structured);
    }

    /** proto.md: minimum a power of two up to 64 KiB, preferred a power of two at least that, maximum a multiple of minimum (or 0xffffffff). */
    private long[] checkedBlockSizes(long[] b) throws NbdProtocolError {
        long min = b[0];
        long preferred = b[1];
        long max = b[2];
        boolean ok = min >= 1 && min <= 65536 && Long.bitCount(min) == 1
            && preferred >= min && Long.bitCount(preferred) == 1 && preferred <= (1L << 32)
            && max >= preferred && (max % min == 0 || max == 0xffff_ffffL);
        if (!ok) {
            throw new NbdProtocolError(where + ": impossible NBD_INFO_BLOCK_SIZE minimum " + min + ", preferred "
                + preferred + ", maximum " + max);
        }
        return new long[] {min, Math.min(preferred, 1L << 30), max == 0xffff_ffffL ? max - max % min : max};
    }

    private void expectLength(OptionReply r, int bytes, String what) throws NbdProtocolError {
        if (r.data.remaining() != bytes) {
            throw new NbdProtocolError(where + ": " + what + " of " + r.data.remaining() + " bytes, expected " + bytes);
        }
    }

    private IOException refusal(OptionReply r) {
        String message = StandardCharsets.UTF_8.decode(r.data.duplicate()).toString().strip();
        String why = switch (r.type) {
            case REP_ERR_UNKNOWN -> "has no export named '" + exportName + "'";
            case REP_ERR_POLICY -> "refuses export '" + exportName + "' by policy";
            case REP_ERR_TLS_REQD -> "requires TLS, which jmd's NBD client does not have";
            case REP_ERR_SHUTDOWN -> "is shutting down";
            case REP_ERR_INVALID -> "calls our request for '" + exportName + "' invalid";
            case REP_ERR_PLATFORM -> "cannot serve export '" + exportName + "' on its platform";
            case REP_ERR_BLOCK_SIZE_REQD -> "insists on block size negotiation";
            default -> (r.type & REP_FLAG_ERROR) != 0
                ? "refused export '" + exportName + "' (error 0x" + Integer.toHexString(r.type) + ")"
                : null;
        };
        if (why == null) {
            return new NbdProtocolError(where + ": unexpected reply type 0x" + Integer.toHexString(r.type) + " to GO");
        }
        return new IOException(where + " " + why + (message.isEmpty() ? "" : ": " + message));
    }

    private record OptionReply(int type, ByteBuffer data) {
    }

    private OptionReply reply(int option) throws IOException {
        OptionDescriptor.ReplyHeader h = OptionDescriptor.readReplyHeader(read(OptionDescriptor.REPLY_HEADER_BYTES, "option reply"));
        if (h.magic() != OPTION_REPLY_MAGIC) {
            throw new NbdProtocolError(where + ": bad option reply magic 0x" + Long.toHexString(h.magic()));
        }
        if (h.option() != option) {
            throw new NbdProtocolError(where + ": reply to option " + NbdProtocol.optionName(h.option()) + " while "
                + NbdProtocol.optionName(option) + " was asked");
        }
        if (h.lengthBytes() > OPTION_REPLY_MAX_BYTES) {
            throw new NbdProtocolError(where + ": option reply of " + h.lengthBytes() + " bytes (at most "
                + OPTION_REPLY_MAX_BYTES + " expected)");
        }
        return new OptionReply(h.type(), read((int) h.lengthBytes(), "option reply data"));
    }

    private ByteBuffer read(int bytes, String what) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(bytes);
        try {
            transport.readExactly(b);
        } catch (EOFException e) {
            EOFException x = new EOFException(where + " closed the connection during the handshake (reading the " + what + ")");
            x.initCause(e);
            throw x;
        }
        return b.flip();
    }
}

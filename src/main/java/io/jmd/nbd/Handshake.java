package io.jmd.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * Fixed newstyle option haggling, server side. Runs on the connection's reader thread, which is
 * the only reader and writer of the transport until transmission starts.
 *
 * <pre>
 *   greeting ──► client flags ──► option loop ──┬─ GO / EXPORT_NAME ok ──► transmission (Session)
 *   (unknown client flag: drop)    │   ▲        ├─ ABORT (ACK sent) ─────► close (null)
 *                                  └───┘        ├─ end of stream ────────► close (null)
 *                      any other option: a reply └─ broken MUST ──────────► ProtocolException
 * </pre>
 *
 * Every option except EXPORT_NAME gets a reply; an option we do not know gets ERR_UNSUP and the
 * loop goes on (its data is read and dropped, so the stream stays in step).
 */
final class Handshake {
    /** Options per connection: nbdinfo --list spends ~3 per export; 1024 covers hundreds of arrays. */
    static final int OPTIONS_MAX = 1024;
    /** Largest option data kept: a 4096-byte name plus a few 4096-byte queries and their lengths. */
    static final int OPTION_DATA_MAX_BYTES = 16 * 1024;
    /** Larger data is read and dropped (answered ERR_TOO_BIG) up to here; beyond, we disconnect. */
    static final long OPTION_SKIP_MAX_BYTES = 1 << 20;
    /** Our id for base:allocation in SET_META_CONTEXT replies and BLOCK_STATUS chunks. */
    static final int BASE_ALLOCATION_ID = 1;
    static final int HANDSHAKE_FLAGS = NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES;

    private final NbdTransport transport;
    private final ExportTable exports;
    private final BooleanSupplier shuttingDown;

    // Negotiation state. Owner: the connection's reader thread.
    private int clientFlags;
    private boolean structuredReplies;
    /** Export that SET_META_CONTEXT selected base:allocation for, or null. */
    private Export metaContextExport;
    private Session agreed;
    private boolean aborted;

    Handshake(NbdTransport transport, ExportTable exports, BooleanSupplier shuttingDown) {
        this.transport = transport;
        this.exports = exports;
        this.shuttingDown = shuttingDown;
    }

    /** Returns the agreed session, or null if the client ended the session (ABORT or EOF). */
    Session run() throws IOException {
        transport.write(HandshakeDescriptor.greeting(HANDSHAKE_FLAGS));
        ByteBuffer flags = ByteBuffer.allocate(HandshakeDescriptor.CLIENT_FLAGS_BYTES);
        if (!transport.readFully(flags)) {
            return null;
        }
        clientFlags = HandshakeDescriptor.clientFlags(flags.flip());
        if ((clientFlags & ~NbdProtocol.CLIENT_FLAGS_KNOWN) != 0) {
            throw new ProtocolException("unknown client flags 0x" + Integer.toHexString(clientFlags));
        }
        for (int i = 0; i < OPTIONS_MAX; i++) {
            ByteBuffer h = ByteBuffer.allocate(OptionDescriptor.HEADER_BYTES);
            if (!transport.readFully(h)) {
                return null;
            }
            OptionDescriptor.Header header = OptionDescriptor.readHeader(h.flip());
            if (header.magic() != NbdProtocol.IHAVEOPT) {
                throw new ProtocolException("bad option magic 0x" + Long.toHexString(header.magic()));
            }
            byte[] data = readData(header);
            if (data != null) {
                option(header.option(), data);
            }
            if (agreed != null || aborted) {
                return agreed;
            }
        }
        throw new ProtocolException("more than " + OPTIONS_MAX + " options");
    }

    /** The option's data, or null if it was too long (then already skipped and answered). */
    private byte[] readData(OptionDescriptor.Header header) throws IOException {
        long length = header.lengthBytes();
        if (length <= OPTION_DATA_MAX_BYTES) {
            ByteBuffer d = ByteBuffer.allocate((int) length);
            transport.readExactly(d);
            return d.array();
        }
        if (header.option() == NbdProtocol.OPT_EXPORT_NAME || length > OPTION_SKIP_MAX_BYTES) {
            throw new ProtocolException(NbdProtocol.optionName(header.option()) + " data too long: " + length);
        }
        Wire.skip(transport, length);
        reply(header.option(), NbdProtocol.REP_ERR_TOO_BIG, "option data too long");
        return null;
    }

    private void option(int option, byte[] data) throws IOException {
        if (shuttingDown.getAsBoolean() && option != NbdProtocol.OPT_ABORT) {
            if (option == NbdProtocol.OPT_EXPORT_NAME) {
                throw new ProtocolException("server shutting down");
            }
            reply(option, NbdProtocol.REP_ERR_SHUTDOWN, "server is shutting down");
            return;
        }
        switch (option) {
            case NbdProtocol.OPT_EXPORT_NAME -> exportName(data);
            case NbdProtocol.OPT_ABORT -> {
                aborted = true;
                try {
                    ack(option);
                } catch (IOException e) {
                    // proto.md: the client may hang up without reading the ACK.
                }
            }
            case NbdProtocol.OPT_LIST -> list(data);
            case NbdProtocol.OPT_STARTTLS -> reply(option,
                data.length != 0 ? NbdProtocol.REP_ERR_INVALID : NbdProtocol.REP_ERR_UNSUP, "TLS is not supported");
            case NbdProtocol.OPT_INFO, NbdProtocol.OPT_GO -> infoOrGo(option, data);
            case NbdProtocol.OPT_STRUCTURED_REPLY -> structuredReply(data);
            case NbdProtocol.OPT_LIST_META_CONTEXT, NbdProtocol.OPT_SET_META_CONTEXT -> metaContext(option, data);
            default -> reply(option, NbdProtocol.REP_ERR_UNSUP, "unsupported option " + NbdProtocol.optionName(option));
        }
    }

    private void exportName(byte[] data) throws IOException {
        String name = utf8(data);
        Export e = name == null ? null : exports.lookup(name);
        if (e == null) {
            // proto.md: EXPORT_NAME cannot be answered with an error; the server MUST disconnect.
            throw new ProtocolException("NBD_OPT_EXPORT_NAME of an unknown export");
        }
        Session s = session(e);
        transport.write(HandshakeDescriptor.exportNameReply(s.sizeBytes(), s.transmissionFlags(),
            (clientFlags & NbdProtocol.FLAG_NO_ZEROES) != 0));
        agreed = s;
    }

    private Session session(Export e) {
        boolean meta = structuredReplies && metaContextExport == e;
        return new Session(e, e.sizeBytes(), structuredReplies, meta, e.transmissionFlags(structuredReplies));
    }

    private void list(byte[] data) throws IOException {
        if (data.length != 0) {
            reply(NbdProtocol.OPT_LIST, NbdProtocol.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
            return;
        }
        for (Export e : exports.all()) {
            reply(NbdProtocol.OPT_LIST, NbdProtocol.REP_SERVER, OptionDescriptor.serverData(e.nameUtf8, e.descriptionUtf8));
        }
        ack(NbdProtocol.OPT_LIST);
    }

    private void structuredReply(byte[] data) throws IOException {
        if (data.length != 0) {
            reply(NbdProtocol.OPT_STRUCTURED_REPLY, NbdProtocol.REP_ERR_INVALID, "takes no data");
            return;
        }
        structuredReplies = true;
        ack(NbdProtocol.OPT_STRUCTURED_REPLY);
    }

    private void infoOrGo(int option, byte[] data) throws IOException {
        OptionParsers.InfoRequest req = OptionParsers.infoRequest(data);
        if (req == null) {
            reply(option, NbdProtocol.REP_ERR_INVALID, "malformed " + NbdProtocol.optionName(option));
            return;
        }
        String name = utf8(req.name());
        Export e = name == null ? null : exports.lookup(name);
        if (e == null) {
            reply(option, NbdProtocol.REP_ERR_UNKNOWN, "no such export");
            return;
        }
        Session s = session(e);
        // NBD_INFO_EXPORT always (qemu does not ask but needs it); BLOCK_SIZE always (may be sent unasked).
        reply(option, NbdProtocol.REP_INFO, OptionDescriptor.infoExport(s.sizeBytes(), s.transmissionFlags()));
        reply(option, NbdProtocol.REP_INFO,
            OptionDescriptor.infoBlockSize(e.minBlockBytes, e.preferredBlockBytes, e.maxPayloadBytes));
        if (req.wants(NbdProtocol.INFO_NAME)) {
            reply(option, NbdProtocol.REP_INFO, OptionDescriptor.infoString(NbdProtocol.INFO_NAME, e.nameUtf8));
        }
        if (req.wants(NbdProtocol.INFO_DESCRIPTION) && e.descriptionUtf8.length > 0) {
            reply(option, NbdProtocol.REP_INFO, OptionDescriptor.infoString(NbdProtocol.INFO_DESCRIPTION, e.descriptionUtf8));
        }
        ack(option);
        if (option == NbdProtocol.OPT_GO) {
            agreed = s;
        }
    }

    private void metaContext(int option, byte[] data) throws IOException {
        if (!structuredReplies) {
            reply(option, NbdProtocol.REP_ERR_INVALID, "negotiate structured replies first");
            return;
        }
        OptionParsers.MetaContextRequest req = OptionParsers.metaContextRequest(data);
        if (req == null) {
            reply(option, NbdProtocol.REP_ERR_INVALID, "malformed " + NbdProtocol.optionName(option));
            return;
        }
        String name = utf8(req.name());
        Export e = name == null ? null : exports.lookup(name);
        if (e == null) {
            reply(option, NbdProtocol.REP_ERR_UNKNOWN, "no such export");
            return;
        }
        boolean set = option == NbdProtocol.OPT_SET_META_CONTEXT;
        boolean matched = set ? req.selectsExactly(NbdProtocol.CONTEXT_BASE_ALLOCATION)
            : req.listsBase(NbdProtocol.CONTEXT_BASE_ALLOCATION);
        if (set) {
            // SET replaces every earlier selection, and binds it to this export.
            metaContextExport = matched ? e : null;
        }
        if (matched) {
            reply(option, NbdProtocol.REP_META_CONTEXT,
                OptionDescriptor.metaContextData(set ? BASE_ALLOCATION_ID : 0, NbdProtocol.CONTEXT_BASE_ALLOCATION));
        }
        ack(option);
    }

    private void ack(int option) throws IOException {
        reply(option, NbdProtocol.REP_ACK, new byte[0]);
    }

    /** An error reply with a message for a human. */
    private void reply(int option, int type, String message) throws IOException {
        assert (type & NbdProtocol.REP_FLAG_ERROR) != 0 : "only error replies carry a message";
        reply(option, type, ReplyDescriptor.truncatedUtf8(message));
    }

    private void reply(int option, int type, byte[] data) throws IOException {
        transport.write(OptionDescriptor.reply(option, type, data));
    }

    /** Strict UTF-8 decoding: a name that is not valid UTF-8 names no export. */
    static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}

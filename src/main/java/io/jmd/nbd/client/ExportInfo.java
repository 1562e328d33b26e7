package io.jmd.nbd.client;

import io.jmd.nbd.NbdProtocol;

/**
 * What the handshake learned about an export.
 *
 * @param sizeBytes         export size as the server gave it
 * @param transmissionFlags NBD_FLAG_* of the export (HAS_FLAGS set, or 0 if the server sent none)
 * @param minBlockBytes     NBD_INFO_BLOCK_SIZE minimum (1 if not given: any alignment is fine)
 * @param preferredBlockBytes NBD_INFO_BLOCK_SIZE preferred (4096 if not given)
 * @param maxPayloadBytes   largest READ/WRITE payload (32 MiB, capped at the size, if not given)
 * @param structuredReplies whether NBD_OPT_STRUCTURED_REPLY was acknowledged
 */
public record ExportInfo(long sizeBytes, int transmissionFlags, int minBlockBytes, int preferredBlockBytes,
                         int maxPayloadBytes, boolean structuredReplies) {
    /** proto.md: without NBD_INFO_BLOCK_SIZE a client may send payloads up to 32 MiB. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 32 << 20;

    ExportInfo withStructured(boolean value) {
        return new ExportInfo(sizeBytes, transmissionFlags, minBlockBytes, preferredBlockBytes, maxPayloadBytes, value);
    }

    public boolean has(int flag) {
        return (transmissionFlags & NbdProtocol.TFLAG_HAS_FLAGS) != 0 && (transmissionFlags & flag) != 0;
    }

    public boolean readOnly() {
        return has(NbdProtocol.TFLAG_READ_ONLY);
    }

    /** For messages and logs. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        b.append(sizeBytes).append(" bytes");
        if (readOnly()) {
            b.append(", read-only");
        }
        String[] names = {"flush", "fua", "trim", "write-zeroes"};
        int[] flags = {NbdProtocol.TFLAG_SEND_FLUSH, NbdProtocol.TFLAG_SEND_FUA, NbdProtocol.TFLAG_SEND_TRIM,
            NbdProtocol.TFLAG_SEND_WRITE_ZEROES};
        for (int i = 0; i < names.length; i++) {
            if (has(flags[i])) {
                b.append(", ").append(names[i]);
            }
        }
        b.append(", blocks ").append(minBlockBytes).append('/').append(preferredBlockBytes).append('/')
            .append(maxPayloadBytes);
        b.append(structuredReplies ? ", structured replies" : ", simple replies");
        return b.toString();
    }
}

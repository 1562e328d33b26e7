package io.jmd.nbd;

import io.jmd.block.BlockDevice;

import java.nio.charset.StandardCharsets;

/**
 * One served device and what the handshake tells clients about it. Immutable; shared by every
 * connection to it, which is what makes CAN_MULTI_CONN true: all connections submit to the same
 * {@link BlockDevice} instance and the server keeps no cache of its own, so a FLUSH on one
 * connection reaches every write any connection has already replied to (see {@link Commands}).
 */
final class Export {
    final String name;
    final byte[] nameUtf8;
    final String description;
    final byte[] descriptionUtf8;
    final BlockDevice device;
    final boolean readOnly;
    /** NBD_INFO_BLOCK_SIZE minimum: the device's logical block; unaligned requests get EINVAL. */
    final int minBlockBytes;
    final int preferredBlockBytes;
    /** Largest READ/WRITE payload accepted (and advertised as the maximum block size). */
    final int maxPayloadBytes;

    Export(String name, String description, BlockDevice device, boolean readOnly, int maxPayloadBytes) {
        this.name = name;
        this.nameUtf8 = checkedString("export name", name);
        this.description = description == null ? "" : description;
        this.descriptionUtf8 = checkedString("export description", this.description);
        this.device = device;
        this.readOnly = readOnly;
        int min = device.logicalBlockBytes();
        if (Integer.bitCount(min) != 1 || min > 65536) {
            throw new IllegalArgumentException(device.name() + ": logical block " + min
                + " is not a power of two <= 64 KiB, which NBD requires");
        }
        if (maxPayloadBytes % min != 0 || maxPayloadBytes < Math.max(min, 512)) {
            throw new IllegalArgumentException("max payload " + maxPayloadBytes + " must be a multiple of " + min);
        }
        this.minBlockBytes = min;
        int optimal = Integer.highestOneBit(Math.max(1, device.optimalIoBytes()));
        this.preferredBlockBytes = Math.min(Math.max(Math.max(min, 512), optimal), Integer.highestOneBit(maxPayloadBytes));
        this.maxPayloadBytes = maxPayloadBytes;
    }

    private static byte[] checkedString(String what, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > NbdProtocol.STRING_MAX_BYTES || s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + " must be at most 4096 UTF-8 bytes without NUL: " + s);
        }
        return b;
    }

    long sizeBytes() {
        return device.sizeBytes();
    }

    /**
     * The transmission flags for a session. FLUSH and FUA are always offered (a read-only export
     * flushes nothing, harmlessly); writes, trims and zeroes only on writable exports; DF only
     * with structured replies (proto.md: MUST be clear otherwise). FAST_ZERO is offered and
     * answered honestly with ENOTSUP, because the BlockDevice API cannot tell us that zeroing is
     * faster than writing.
     */
    int transmissionFlags(boolean structuredReplies) {
        int f = NbdProtocol.TFLAG_HAS_FLAGS | NbdProtocol.TFLAG_SEND_FLUSH | NbdProtocol.TFLAG_SEND_FUA
            | NbdProtocol.TFLAG_CAN_MULTI_CONN | NbdProtocol.TFLAG_SEND_CACHE;
        if (readOnly) {
            f |= NbdProtocol.TFLAG_READ_ONLY;
        } else {
            f |= NbdProtocol.TFLAG_SEND_TRIM | NbdProtocol.TFLAG_SEND_WRITE_ZEROES | NbdProtocol.TFLAG_SEND_FAST_ZERO;
        }
        if (structuredReplies) {
            f |= NbdProtocol.TFLAG_SEND_DF;
        }
        return f;
    }

    @Override
    public String toString() {
        return "export '" + name + "' (" + device.name() + (readOnly ? ", read-only" : "") + ")";
    }
}

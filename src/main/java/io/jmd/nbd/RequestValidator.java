package io.jmd.nbd;

import static io.jmd.nbd.NbdProtocol.*;

/**
 * The one place where a request from the wire is checked. Past it, code asserts instead of
 * re-checking. Returns null for a valid request, or the error proto.md names:
 *
 * <ul>
 *   <li>unknown command, unknown flag, or a flag not documented for the command: EINVAL;</li>
 *   <li>WRITE, TRIM or WRITE_ZEROES on a read-only export: EPERM;</li>
 *   <li>FLUSH with a non-zero offset or length, zero-length data commands: EINVAL;</li>
 *   <li>WRITE or WRITE_ZEROES past the end: ENOSPC; anything else past the end: EINVAL;</li>
 *   <li>offset or length not a multiple of the advertised minimum block size: EINVAL;</li>
 *   <li>READ or WRITE longer than the advertised maximum payload: EOVERFLOW (permitted as a hint
 *       since proto.md's payload-size rework; older clients read it as EINVAL).</li>
 * </ul>
 *
 * DISC is not validated: it ends the session whatever its fields say.
 */
final class RequestValidator {
    private RequestValidator() {
    }

    /** Why a request is refused: an NBD errno and a message for the client's human. */
    record Rejection(int error, String message) {
        Rejection {
            assert error > 0 : "a rejection carries an errno";
        }
    }

    static Rejection validate(Request r, Session s) {
        assert r.magic() == REQUEST_MAGIC : "the reader checks the magic before validation";
        assert r.type() != CMD_DISC : "DISC is handled before validation";
        Rejection x = command(r, s);
        if (x == null) {
            x = flags(r, s);
        }
        if (x == null) {
            x = range(r, s);
        }
        return x;
    }

    private static Rejection command(Request r, Session s) {
        return switch (r.type()) {
            case CMD_READ, CMD_CACHE -> null;
            case CMD_FLUSH -> r.offsetBytes() != 0 || r.lengthBytes() != 0
                ? new Rejection(EINVAL, "FLUSH needs offset and length 0") : null;
            case CMD_WRITE, CMD_TRIM, CMD_WRITE_ZEROES -> s.export().readOnly
                ? new Rejection(EPERM, NbdProtocol.commandName(r.type()) + " on a read-only export") : null;
            case CMD_BLOCK_STATUS -> s.baseAllocation() ? null
                : new Rejection(EINVAL, "BLOCK_STATUS without a negotiated meta context");
            default -> new Rejection(EINVAL, "unknown command " + r.type());
        };
    }

    private static Rejection flags(Request r, Session s) {
        int f = r.flags();
        if ((f & ~CMD_FLAGS_KNOWN) != 0) {
            return new Rejection(EINVAL, "unknown command flags 0x" + Integer.toHexString(f & ~CMD_FLAGS_KNOWN));
        }
        int t = r.type();
        if ((f & (CMD_FLAG_NO_HOLE | CMD_FLAG_FAST_ZERO)) != 0 && t != CMD_WRITE_ZEROES) {
            return new Rejection(EINVAL, "NO_HOLE and FAST_ZERO are for WRITE_ZEROES only");
        }
        if ((f & CMD_FLAG_DF) != 0 && (t != CMD_READ || !s.advertises(TFLAG_SEND_DF))) {
            return new Rejection(EINVAL, "DF is for READ with structured replies only");
        }
        if ((f & CMD_FLAG_REQ_ONE) != 0 && t != CMD_BLOCK_STATUS) {
            return new Rejection(EINVAL, "REQ_ONE is for BLOCK_STATUS only");
        }
        if ((f & CMD_FLAG_FAST_ZERO) != 0 && !s.advertises(TFLAG_SEND_FAST_ZERO)) {
            return new Rejection(EINVAL, "FAST_ZERO was not advertised");
        }
        return null;
    }

    private static Rejection range(Request r, Session s) {
        int t = r.type();
        if (t == CMD_FLUSH) {
            return null;
        }
        long offset = r.offsetBytes();
        long length = r.lengthBytes();
        boolean writes = t == CMD_WRITE || t == CMD_WRITE_ZEROES;
        if (length == 0) {
            return new Rejection(EINVAL, "zero-length " + NbdProtocol.commandName(t));
        }
        // offset < 0 is a u64 of 2^63 or more: past any export. Else offset + length cannot overflow.
        if (offset < 0 || offset > s.sizeBytes() || length > s.sizeBytes() - offset) {
            return new Rejection(writes ? ENOSPC : EINVAL, NbdProtocol.commandName(t) + " past the end of the export");
        }
        int min = s.export().minBlockBytes;
        if (offset % min != 0 || length % min != 0) {
            return new Rejection(EINVAL, "offset and length must be multiples of " + min);
        }
        if ((t == CMD_READ || t == CMD_WRITE) && length > s.export().maxPayloadBytes) {
            return new Rejection(EOVERFLOW, "payload larger than " + s.export().maxPayloadBytes);
        }
        return null;
    }
}

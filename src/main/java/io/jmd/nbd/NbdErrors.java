package io.jmd.nbd;

import io.jmd.block.Errno;

/**
 * Maps device errnos to the errors proto.md allows on the wire. A device's result is an I/O
 * result: what the spec does not name becomes EIO. ENOMEM is avoided (proto.md: SHOULD NOT), and
 * EOVERFLOW/ENOTSUP only go out where the spec gives them a meaning (DF, FAST_ZERO).
 */
final class NbdErrors {
    private NbdErrors() {
    }

    static int fromErrno(int errno, int commandFlags) {
        return switch (errno) {
            case Errno.OK -> 0;
            case Errno.EPERM, Errno.EROFS -> NbdProtocol.EPERM;
            case Errno.EINVAL -> NbdProtocol.EINVAL;
            case Errno.ENOSPC, Errno.EFBIG -> NbdProtocol.ENOSPC;
            case Errno.ESHUTDOWN -> NbdProtocol.ESHUTDOWN;
            case Errno.EOVERFLOW -> (commandFlags & NbdProtocol.CMD_FLAG_DF) != 0 ? NbdProtocol.EOVERFLOW : NbdProtocol.EINVAL;
            case Errno.ENOTSUP -> (commandFlags & NbdProtocol.CMD_FLAG_FAST_ZERO) != 0 ? NbdProtocol.ENOTSUP : NbdProtocol.EINVAL;
            default -> NbdProtocol.EIO;
        };
    }

    static String describe(int nbdError) {
        return Errno.name(nbdError);
    }
}

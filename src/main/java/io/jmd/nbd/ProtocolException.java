package io.jmd.nbd;

import java.io.IOException;

/**
 * The client broke a MUST of the protocol in a way that leaves no sensible reply (a bad magic,
 * an unknown client flag, an oversized option or payload): the server hard-disconnects, as
 * proto.md allows. It ends one connection and never disturbs another.
 */
final class ProtocolException extends IOException {
    ProtocolException(String message) {
        super(message);
    }
}

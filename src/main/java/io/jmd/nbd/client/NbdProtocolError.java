package io.jmd.nbd.client;

import java.io.IOException;

/**
 * The server broke the protocol (a bad magic, a reply for a request never sent, a chunk that does
 * not fit its request, an impossible length): nothing it says afterwards can be trusted, so the
 * connection is dropped and every request on it fails. The message says what was wrong.
 */
public final class NbdProtocolError extends IOException {
    public NbdProtocolError(String message) {
        super(message);
    }
}

package io.jmd.nbd;

/**
 * One transmission request as read off the wire, before validation. {@code offsetBytes} is the
 * raw u64 (negative when the client sent a value of 2^63 or more); {@code lengthBytes} is the
 * u32 widened, so it is never negative.
 */
record Request(int magic, int flags, int type, long cookie, long offsetBytes, long lengthBytes) {
    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** Whether a payload of {@code lengthBytes} follows the header on the wire. */
    boolean carriesPayload() {
        return type == NbdProtocol.CMD_WRITE;
    }

    @Override
    public String toString() {
        return NbdProtocol.commandName(type) + "(flags=0x" + Integer.toHexString(flags) + " cookie=" + cookie
            + " offset=" + Long.toUnsignedString(offsetBytes) + " length=" + lengthBytes + ")";
    }
}

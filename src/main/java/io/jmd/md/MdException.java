package io.jmd.md;

/**
 * An operating error at the md level: a member with no or a bad superblock, members of different
 * arrays, a stale member, an array too degraded to start. The message says what and which member,
 * and is meant for the operator as is.
 */
public final class MdException extends Exception {
    public MdException(String message) {
        super(message);
    }

    public MdException(String message, Throwable cause) {
        super(message, cause);
    }
}

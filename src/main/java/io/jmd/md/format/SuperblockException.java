package io.jmd.md.format;

/**
 * A member's metadata (v1 superblock or bitmap superblock) failed validation at the boundary.
 *
 * <p>Checked on purpose: bad metadata on a member is an operating error (a foreign disk, a torn
 * write, a truncated image), which the caller must handle by skipping or failing that member, never
 * a programmer error. The message names the field and both values, e.g. {@code "bad magic
 * 0x00000000 at sector 8 (expected 0xa92b4efc)"}.
 */
public final class SuperblockException extends Exception {
    public SuperblockException(String message) {
        super(message);
    }
}

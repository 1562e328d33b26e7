package io.jmd.md.format;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * The 32-byte {@code set_name} field. mdadm stores {@code "homehost:name"} when the name has no
 * ':' and both fit (Create/init_super1), else the bare name; the rest of the field is NUL. The raw
 * bytes are kept so an encoded superblock is byte-identical to the one read.
 */
public final class ArrayName {
    public static final int BYTES = Superblock1Layout.NAME_BYTES;

    private final byte[] bytes;

    private ArrayName(byte[] bytes) {
        assert bytes.length == BYTES : "name field length " + bytes.length;
        this.bytes = bytes;
    }

    public static ArrayName fromField(byte[] field) {
        if (field.length != BYTES) {
            throw new IllegalArgumentException("set_name must be 32 bytes, got " + field.length);
        }
        return new ArrayName(field.clone());
    }

    /** Stores {@code text} as is (e.g. "homehost:jmdtest"), NUL-padded; at most 32 bytes. */
    public static ArrayName ofText(String text) {
        byte[] encoded = text.getBytes(StandardCharsets.UTF_8);
        if (encoded.length > BYTES) {
            throw new IllegalArgumentException("array name longer than 32 bytes: " + text);
        }
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("array name contains NUL: " + text);
        }
        return new ArrayName(Arrays.copyOf(encoded, BYTES));
    }

    /**
     * mdadm's rule for --name with --homehost: prefix "homehost:" when the name has no ':' and
     * the whole string stays under 32 bytes; otherwise keep at most 31 bytes of the bare name.
     */
    public static ArrayName create(Optional<String> homehost, String name) {
        int combined = homehost.map(h -> utf8Length(h) + 1 + utf8Length(name)).orElse(BYTES);
        if (homehost.isPresent() && name.indexOf(':') < 0 && combined < BYTES) {
            return ofText(homehost.get() + ":" + name);
        }
        byte[] encoded = name.getBytes(StandardCharsets.UTF_8);
        return new ArrayName(Arrays.copyOf(Arrays.copyOf(encoded, Math.min(encoded.length, BYTES - 1)), BYTES));
    }

    public byte[] toField() {
        return bytes.clone();
    }

    /** The name up to the first NUL (all 32 bytes when there is none), as mdadm's "%.32s". */
    public String text() {
        int length = 0;
        while (length < BYTES && bytes[length] != 0) {
            length++;
        }
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }

    /** The part before the first ':' (the homehost), if there is one. */
    public Optional<String> homehost() {
        String text = text();
        int colon = text.indexOf(':');
        return colon < 0 ? Optional.empty() : Optional.of(text.substring(0, colon));
    }

    /** The part after the first ':' or the whole text (mdadm's brief_examine rule). */
    public String shortName() {
        String text = text();
        int colon = text.indexOf(':');
        return colon < 0 ? text : text.substring(colon + 1);
    }

    /** mdadm's match_home1: the name starts with {@code homehost} followed by ':'. */
    public boolean isLocalTo(String homehost) {
        byte[] host = homehost.getBytes(StandardCharsets.UTF_8);
        if (host.length == 0 || host.length >= BYTES || bytes[host.length] != ':') {
            return false;
        }
        return Arrays.equals(bytes, 0, host.length, host, 0, host.length);
    }

    private static int utf8Length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ArrayName that && Arrays.equals(bytes, that.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return text();
    }
}

package io.jmd.md.format;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.random.RandomGenerator;

/**
 * A 16-byte md UUID (set_uuid, device_uuid, bitmap uuid), kept in on-disk byte order.
 * mdadm prints v1 UUIDs as the bytes in order, in four groups of four, joined by ':'
 * ({@code 79e4c376:fe337a00:f415d134:4433496f}).
 */
public final class MdUuid {
    public static final int BYTES = Superblock1Layout.UUID_BYTES;

    private final byte[] bytes;

    private MdUuid(byte[] bytes) {
        assert bytes.length == BYTES : "uuid length " + bytes.length;
        this.bytes = bytes;
    }

    public static MdUuid of(byte[] bytes) {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("uuid must be 16 bytes, got " + bytes.length);
        }
        return new MdUuid(bytes.clone());
    }

    public static MdUuid random(RandomGenerator random) {
        byte[] bytes = new byte[BYTES];
        random.nextBytes(bytes);
        return new MdUuid(bytes);
    }

    /** Parses mdadm's form; the ':' separators are optional, as in mdadm's parse_uuid. */
    public static MdUuid parse(String text) {
        String hex = text.replace(":", "");
        if (hex.length() != 2 * BYTES) {
            throw new IllegalArgumentException("uuid needs 32 hex digits: " + text);
        }
        return new MdUuid(HexFormat.of().parseHex(hex));
    }

    public byte[] toBytes() {
        return bytes.clone();
    }

    public boolean isZero() {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** mdadm's form: {@code xxxxxxxx:xxxxxxxx:xxxxxxxx:xxxxxxxx}. */
    public String format() {
        HexFormat hex = HexFormat.of();
        StringBuilder text = new StringBuilder(35);
        for (int group = 0; group < 4; group++) {
            if (group > 0) {
                text.append(':');
            }
            text.append(hex.formatHex(bytes, 4 * group, 4 * group + 4));
        }
        return text.toString();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof MdUuid that && Arrays.equals(bytes, that.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return format();
    }
}

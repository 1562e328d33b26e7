package io.jmd.md.format;

import java.util.Optional;

/**
 * The raid10 layout word: {@code near | far << 8 | offset << 16 | farset version << 17}
 * (kernel raid10.c setup_geo; bits above 18 are invalid). "n2" is 0x102 (mdadm's default),
 * "fN" is (N &lt;&lt; 8) + 1, "oN" is 0x10000 + (N &lt;&lt; 8) + 1.
 */
public record Raid10Layout(int near, int far, boolean offset, int version) {
    public static final int DEFAULT_WORD = 0x102;

    private static final int OFFSET_BIT = 1 << 16;
    private static final int VERSION_SHIFT = 17;
    private static final int VALID_BITS = 19;

    public Raid10Layout {
        if (near < 1 || near > 255 || far < 1 || far > 255 || version < 0 || version > 3) {
            throw new IllegalArgumentException("raid10 layout near=" + near + " far=" + far + " version=" + version);
        }
    }

    public static Raid10Layout near(int copies) {
        return new Raid10Layout(copies, 1, false, 0);
    }

    public static Raid10Layout far(int copies) {
        return new Raid10Layout(1, copies, false, 0);
    }

    public static Raid10Layout offset(int copies) {
        return new Raid10Layout(1, copies, true, 0);
    }

    public static Optional<Raid10Layout> decode(int word) {
        int near = word & 0xff;
        int far = (word >>> 8) & 0xff;
        if ((word >>> VALID_BITS) != 0 || near == 0 || far == 0) {
            return Optional.empty();
        }
        return Optional.of(new Raid10Layout(near, far, (word & OFFSET_BIT) != 0, word >>> VERSION_SHIFT));
    }

    public int word() {
        return near | far << 8 | (offset ? OFFSET_BIT : 0) | version << VERSION_SHIFT;
    }

    /** Copies of each block: near * far (offset layouts count as far). */
    public int copies() {
        return near * far;
    }

    /** What mdadm's print_r10_layout prints after "Layout :", leading space included. */
    public String mdadmName() {
        StringBuilder text = new StringBuilder();
        String separator = "";
        if (near != 1) {
            text.append(separator).append(" near=").append(near);
            separator = ",";
        }
        if (far != 1) {
            text.append(separator).append(' ').append(offset ? "offset" : "far").append('=').append(far);
        }
        if (near * far == 1) {
            text.append("NO REDUNDANCY");
        }
        return text.toString();
    }
}

package io.jmd.md.format;

/**
 * Bits of {@code feature_map} (md_p.h MD_FEATURE_*). The kernel refuses a superblock with any bit
 * outside {@link #ALL}, so we do too.
 */
public final class FeatureBits {
    private FeatureBits() {}

    /** bitmap_offset is meaningful: an internal write-intent bitmap lives there. */
    public static final int BITMAP_OFFSET = 1;
    /** recovery_offset is meaningful: this member is only rebuilt up to there. */
    public static final int RECOVERY_OFFSET = 2;
    /** A reshape is in progress: reshape_position, new_* and delta_disks are meaningful. */
    public static final int RESHAPE_ACTIVE = 4;
    /** The bad-block log is not empty. */
    public static final int BAD_BLOCKS = 8;
    /** This member is replacing the active member with the same role. */
    public static final int REPLACEMENT = 16;
    /** The reshape runs from the end towards the start. */
    public static final int RESHAPE_BACKWARDS = 32;
    /** new_offset is meaningful (a reshape moves data_offset). */
    public static final int NEW_OFFSET = 64;
    /** recovery is tracked with the bitmap. */
    public static final int RECOVERY_BITMAP = 128;
    /** Clustered md (mdadm calls this bit BITMAP_VERSIONED). */
    public static final int CLUSTERED = 256;
    /** The array has a raid5 write journal. */
    public static final int JOURNAL = 512;
    /** Partial parity log for raid5. */
    public static final int PPL = 1024;
    /** Several PPLs in a ring. */
    public static final int MULTIPLE_PPLS = 2048;
    /** layout is meaningful for raid0 (kernel 5.4 and later). */
    public static final int RAID0_LAYOUT = 4096;

    public static final int ALL = BITMAP_OFFSET | RECOVERY_OFFSET | RESHAPE_ACTIVE | BAD_BLOCKS
            | REPLACEMENT | RESHAPE_BACKWARDS | NEW_OFFSET | RECOVERY_BITMAP | CLUSTERED | JOURNAL
            | PPL | MULTIPLE_PPLS | RAID0_LAYOUT;

    public static boolean has(int featureMap, int bit) {
        return (featureMap & bit) != 0;
    }

    public static int unknownBits(int featureMap) {
        return featureMap & ~ALL;
    }
}

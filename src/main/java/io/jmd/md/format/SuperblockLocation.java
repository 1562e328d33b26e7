package io.jmd.md.format;

/**
 * Where a v1 superblock lives, by minor version. The minor version is not stored in the superblock:
 * it follows from super_offset, which must equal the location computed here (mdadm load_super1,
 * kernel super_1_load). Every location is 4 KiB aligned.
 *
 * <pre>
 *  1.0  at the end:   (device_sectors - 16) &amp; ~7   (at least 8 KiB, less than 12 KiB from the end)
 *  1.1  at the start: sector 0
 *  1.2  4 KiB in:     sector 8   (mdadm's default)
 * </pre>
 */
public enum SuperblockLocation {
    V1_0(0),
    V1_1(1),
    V1_2(2);

    /** mdadm refuses devices smaller than this for v1 metadata (store_super1, load_super1). */
    public static final long MIN_DEVICE_SECTORS = 24;

    private static final long END_RESERVE_SECTORS = 16;
    private static final long ALIGN_SECTORS = 8;
    private static final long V1_2_OFFSET_SECTORS = 8;

    private final int minor;

    SuperblockLocation(int minor) {
        this.minor = minor;
    }

    public int minor() {
        return minor;
    }

    /** "1.0", "1.1" or "1.2". */
    public String versionText() {
        return "1." + minor;
    }

    public static SuperblockLocation forMinor(int minor) {
        for (SuperblockLocation location : values()) {
            if (location.minor == minor) {
                return location;
            }
        }
        throw new IllegalArgumentException("no v1 minor version " + minor);
    }

    /** The superblock's sector on a device of {@code deviceSectors}; the device must be big enough. */
    public long superOffsetSectors(long deviceSectors) {
        if (deviceSectors < MIN_DEVICE_SECTORS) {
            throw new IllegalArgumentException("device of " + deviceSectors + " sectors is too small for md (need "
                    + MIN_DEVICE_SECTORS + ")");
        }
        return switch (this) {
            case V1_0 -> (deviceSectors - END_RESERVE_SECTORS) & ~(ALIGN_SECTORS - 1);
            case V1_1 -> 0;
            case V1_2 -> V1_2_OFFSET_SECTORS;
        };
    }

    public long superOffsetBytes(long deviceSectors) {
        return superOffsetSectors(deviceSectors) * Superblock1Layout.SECTOR_BYTES;
    }

    /** True when the metadata sits before the data (1.1, 1.2) rather than after it (1.0). */
    public boolean isAtStart() {
        return this != V1_0;
    }

    /** The version mdadm --examine prints for a super_offset (its own rule: ≤4 → 1.1, ≤8 → 1.2). */
    public static SuperblockLocation fromSuperOffsetAsMdadm(long superOffsetSectors) {
        if (Long.compareUnsigned(superOffsetSectors, 4) <= 0) {
            return V1_1;
        }
        return Long.compareUnsigned(superOffsetSectors, 8) <= 0 ? V1_2 : V1_0;
    }
}

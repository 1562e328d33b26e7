package io.jmd.md.format;

/**
 * What a user asks for when creating an array, with mdadm 4.x's defaults filled in by
 * {@link #defaults}. Values are in mdadm's units (chunk in KiB, bitmap chunk in bytes);
 * {@link CreateGeometry} turns them into superblock fields.
 *
 * @param level            personality
 * @param raidDisks        number of slots (one member per slot; spares are not modelled)
 * @param layout           raid5/6 algorithm, raid10 layout word, raid0 layout; 0 when meaningless
 * @param chunkKib         chunk for striped levels, rounding for linear, 0 for raid1
 * @param location         where the superblock goes (mdadm's default is 1.2)
 * @param internalBitmap   add an internal write-intent bitmap (--bitmap=internal)
 * @param bitmapChunkBytes bitmap chunk; 0 lets mdadm's rule choose
 */
public record CreateOptions(
        RaidLevel level,
        int raidDisks,
        int layout,
        int chunkKib,
        SuperblockLocation location,
        boolean internalBitmap,
        int bitmapChunkBytes) {

    /** mdadm's DEFAULT_CHUNK. */
    public static final int DEFAULT_CHUNK_KIB = 512;
    /** mdadm's default raid0 layout on kernels since 5.4: "original". */
    public static final int RAID0_ORIGINAL_LAYOUT = 1;

    public CreateOptions {
        if (raidDisks < level.minRaidDisks() || raidDisks > Superblock1Layout.MAX_DEV_LIMIT) {
            throw new IllegalArgumentException(level.mdadmName() + " needs " + level.minRaidDisks() + ".."
                    + Superblock1Layout.MAX_DEV_LIMIT + " raid devices, got " + raidDisks);
        }
        if (level == RaidLevel.RAID1 && chunkKib != 0) {
            throw new IllegalArgumentException("raid1 has no chunk size, got " + chunkKib + "K");
        }
        if (level.isStriped() && (chunkKib < 4 || Integer.bitCount(chunkKib) != 1)) {
            throw new IllegalArgumentException("chunk must be a power of two of at least 4K, got " + chunkKib + "K");
        }
        if (internalBitmap && !level.hasComponentSize()) {
            throw new IllegalArgumentException("bitmaps are not meaningful with " + level.mdadmName());
        }
        if (bitmapChunkBytes != 0 && (bitmapChunkBytes < 4096 || Integer.bitCount(bitmapChunkBytes) != 1)) {
            throw new IllegalArgumentException("bitmap chunk must be a power of two of at least 4096, got "
                    + bitmapChunkBytes);
        }
        if (level == RaidLevel.RAID10) {
            Raid10Layout r10 = Raid10Layout.decode(layout)
                    .orElseThrow(() -> new IllegalArgumentException("bad raid10 layout 0x" + Integer.toHexString(layout)));
            if (r10.copies() > raidDisks) {
                throw new IllegalArgumentException("layout" + r10.mdadmName() + " requires at least " + r10.copies()
                        + " devices");
            }
        }
    }

    /** mdadm --create defaults for {@code level}: 1.2 metadata, 512K chunk, left-symmetric, n2. */
    public static CreateOptions defaults(RaidLevel level, int raidDisks) {
        int layout = switch (level) {
            case RAID5, RAID6 -> Raid5Algorithm.DEFAULT.layout();
            case RAID10 -> Raid10Layout.DEFAULT_WORD;
            case RAID0 -> RAID0_ORIGINAL_LAYOUT;
            default -> 0;
        };
        int chunkKib = level.isStriped() ? DEFAULT_CHUNK_KIB : 0;
        return new CreateOptions(level, raidDisks, layout, chunkKib, SuperblockLocation.V1_2, false, 0);
    }

    public CreateOptions withLayout(int newLayout) {
        return new CreateOptions(level, raidDisks, newLayout, chunkKib, location, internalBitmap, bitmapChunkBytes);
    }

    public CreateOptions withChunkKib(int newChunkKib) {
        return new CreateOptions(level, raidDisks, layout, newChunkKib, location, internalBitmap, bitmapChunkBytes);
    }

    public CreateOptions withLocation(SuperblockLocation newLocation) {
        return new CreateOptions(level, raidDisks, layout, chunkKib, newLocation, internalBitmap, bitmapChunkBytes);
    }

    public CreateOptions withInternalBitmap(boolean bitmap) {
        return new CreateOptions(level, raidDisks, layout, chunkKib, location, bitmap, bitmapChunkBytes);
    }

    public CreateOptions withBitmapChunkBytes(int bytes) {
        return new CreateOptions(level, raidDisks, layout, chunkKib, location, internalBitmap, bytes);
    }
}

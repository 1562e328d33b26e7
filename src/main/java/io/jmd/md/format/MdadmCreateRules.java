package io.jmd.md.format;

/**
 * mdadm 4.x's sizing rules for --create with v1 metadata (super1.c choose_bm_space,
 * validate_geometry1, add_internal_bitmap1, write_init_super1; Create.c). Numbers in sectors
 * unless the name says otherwise. Checked against kernel-made fixtures: a 16 MiB member gets
 * data_offset 2048, the bad-block log at +16 and the bitmap at +8.
 */
final class MdadmCreateRules {
    private MdadmCreateRules() {}

    private static final long SECTORS_PER_MIB = 2048;
    private static final long GIB_SECTORS = 2L * 1024 * 1024;
    /** Reshape headroom starts at 128 MiB and is halved towards 0.1% of the device. */
    private static final long MAX_HEADROOM_SECTORS = 128 * SECTORS_PER_MIB;
    /** 4 KiB superblock + 8 KiB: the fixed part of the default data_offset. */
    private static final long METADATA_SECTORS = 12 * 2;
    /** Bad-block log: mdadm always reserves 4 KiB. */
    static final int BBLOG_SECTORS = 8;
    /** 1.1 and 1.2 put the bitmap 4 KiB after the superblock. */
    static final int BITMAP_OFFSET_AT_START_SECTORS = 8;
    /** mdadm's default internal bitmap chunk when it may choose: 64 MiB. */
    static final long DEFAULT_BITMAP_CHUNK_BYTES = 64L * 1024 * 1024;
    /** Without a requested chunk, the bitmap is limited to 128 KiB. */
    private static final long MAX_DEFAULT_BITMAP_ROOM_SECTORS = 128 * 2;
    /** Sub-page bitmap chunks do not work in the kernel. */
    private static final long MIN_BITMAP_CHUNK_BYTES = 4096;

    /**
     * Space left for a bitmap (choose_bm_space): 4 KiB normally, 64 KiB above 8 GiB, 128 KiB from
     * 200 GiB, nothing below 64 KiB. Always a multiple of 4 KiB for 4K-sector devices.
     */
    static long bitmapSpaceSectors(long sectors) {
        if (sectors < 64 * 2) {
            return 0;
        }
        if (sectors - 64 * 2 >= 200 * GIB_SECTORS) {
            return 128 * 2;
        }
        if (sectors - 4 * 2 > 8 * GIB_SECTORS) {
            return 64 * 2;
        }
        return 4 * 2;
    }

    /**
     * Default data_offset for 1.1/1.2 (validate_geometry1): metadata + bitmap space + headroom for
     * reshape, rounded up to 1 MiB. Headroom starts at 128 MiB and halves while it exceeds 1/1024
     * of the device and (for chunked levels) the half still holds two chunks. A 16 MiB member gets
     * 2048 with any chunk; a 10 MiB raid0 member with 512K chunks gets 4096.
     */
    static long defaultDataOffsetSectors(long deviceSectors, int chunkKib) {
        long headroom = MAX_HEADROOM_SECTORS;
        long chunkSectors = 2L * chunkKib;
        while ((headroom << 10) > deviceSectors && (chunkKib == 0 || headroom / 2 >= chunkSectors * 2)) {
            headroom >>= 1;
        }
        long offset = METADATA_SECTORS + bitmapSpaceSectors(deviceSectors) + headroom;
        return Math.ceilDiv(offset, SECTORS_PER_MIB) * SECTORS_PER_MIB;
    }

    /** Usable sectors of a member before size rounding (validate_geometry1's freesize). */
    static long freeSectors(SuperblockLocation location, long deviceSectors, long dataOffsetSectors) {
        if (location.isAtStart()) {
            return deviceSectors - dataOffsetSectors;
        }
        long aligned = deviceSectors & ~7L;
        return aligned - (16 + BBLOG_SECTORS + bitmapSpaceSectors(deviceSectors));
    }

    /**
     * Component size in sectors (Create.c): each member's free space in KiB rounded down to the
     * chunk, the smallest of those; raid1 rounds to 64 KiB in case it is ever reshaped to raid5.
     * Zero for raid0 and linear, whose size field is unused.
     */
    static long componentSectors(RaidLevel level, int chunkKib, long[] freeSectors) {
        if (!level.hasComponentSize()) {
            return 0;
        }
        long minKib = Long.MAX_VALUE;
        for (long free : freeSectors) {
            long kib = free / 2;
            if (chunkKib > 0) {
                kib &= ~(long) (chunkKib - 1);
            }
            minKib = Math.min(minKib, kib);
        }
        if (level == RaidLevel.RAID1) {
            minKib &= ~63L;
        }
        if (minKib <= 0) {
            throw new IllegalArgumentException("no free space left on the members (" + minKib + "K)");
        }
        return minKib * 2;
    }

    /** Sectors the bitmap must cover (Create.c bitmapsize): raid10 covers the array, others a member. */
    static long bitmapSyncSectors(RaidLevel level, int raidDisks, int layout, long componentSectors) {
        if (level == RaidLevel.RAID10) {
            int copies = Raid10Layout.decode(layout).orElseThrow().copies();
            return componentSectors / 2 * raidDisks / copies * 2;
        }
        return componentSectors;
    }

    /**
     * Bitmap chunk (add_internal_bitmap1 when creating): the smallest power of two from 4 KiB whose
     * bits fit the room reserved for a bitmap, and at least 64 MiB unless one was requested.
     */
    static int bitmapChunkBytes(long componentSectors, long syncSectors, int requestedChunkBytes) {
        long room = bitmapSpaceSectors(componentSectors);
        if (requestedChunkBytes == 0 && room > MAX_DEFAULT_BITMAP_ROOM_SECTORS) {
            room = MAX_DEFAULT_BITMAP_ROOM_SECTORS;
        }
        if (room <= 1) {
            throw new IllegalArgumentException("no room for a bitmap on members of " + componentSectors + " sectors");
        }
        long maxBits = (room * 512 - BitmapLayout.HEADER_BYTES) * 8;
        long minChunk = MIN_BITMAP_CHUNK_BYTES;
        long bits = syncSectors * 512 / minChunk + 1;
        while (bits > maxBits) {
            minChunk *= 2;
            bits = (bits + 1) / 2;
        }
        if (requestedChunkBytes == 0) {
            return Math.toIntExact(Math.max(minChunk, DEFAULT_BITMAP_CHUNK_BYTES));
        }
        if (requestedChunkBytes < minChunk) {
            throw new IllegalArgumentException("bitmap chunk " + requestedChunkBytes + " too small, need " + minChunk);
        }
        return requestedChunkBytes;
    }

    /**
     * 1.0 only: the bitmap sits before the superblock, after its 4 KiB-rounded size and the bad-block
     * log (add_internal_bitmap1 with offset 0); the result is negative.
     */
    static int bitmapOffsetAtEndSectors(long syncSectors, int chunkBytes) {
        long bits = syncSectors * 512 / chunkBytes + 1;
        long roomSectors = Math.ceilDiv((bits + 7) / 8 + BitmapLayout.HEADER_BYTES, 4096) * 8;
        return Math.toIntExact(-roomSectors - BBLOG_SECTORS);
    }
}

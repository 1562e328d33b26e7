package io.jmd.md.format;

/**
 * Byte layout of {@code bitmap_super_t} (md-bitmap.h, mdadm bitmap.h), little-endian, 256 bytes,
 * followed directly by the bits: chunk i is bit (i % 8) of byte 256 + i / 8.
 *
 * <pre>
 *   0 magic u32 "bitm"     40 sync_size u64 (sectors)   64 sectors_reserved u32
 *   4 version u32          48 state u32                 68 nodes u32
 *   8 uuid[16]             52 chunksize u32 (bytes)     72 cluster_name[64]
 *  24 events u64           56 daemon_sleep u32 (s)     136 pad to 256, zero
 *  32 events_cleared u64   60 write_behind u32
 * </pre>
 */
public final class BitmapLayout {
    private BitmapLayout() {}

    public static final int MAGIC = 0x6d746962;
    /** Host-endian bitmap (little-endian on every machine jmd runs on). */
    public static final int VERSION_LO = 3;
    /** The normal version: little-endian bits. */
    public static final int VERSION_HI = 4;
    /** Clustered md: one bitmap per node. */
    public static final int VERSION_CLUSTERED = 5;

    public static final int HEADER_BYTES = 256;

    /** state bits: bit 1 (0x2) STALE, bit 2 (0x4) WRITE_ERROR (kernel enum bitmap_state numbers). */
    public static final int STATE_STALE = 1 << 1;
    public static final int STATE_WRITE_ERROR = 1 << 2;

    /** The kernel refuses chunks smaller than a sector. */
    public static final int MIN_CHUNK_BYTES = 512;
    /** In-memory counters are 14 bits; write_behind may not exceed COUNTER_MAX. */
    public static final int COUNTER_MAX = (1 << 14) - 1;
    /** mdadm's --delay default (DEFAULT_BITMAP_DELAY). */
    public static final int DEFAULT_DAEMON_SLEEP_SECONDS = 5;
    /** mdadm's value for --write-behind without a number (DEFAULT_MAX_WRITE_BEHIND). */
    public static final int DEFAULT_WRITE_BEHIND = 256;

    public static final int OFF_MAGIC = 0;
    public static final int OFF_VERSION = 4;
    public static final int OFF_UUID = 8;
    public static final int OFF_EVENTS = 24;
    public static final int OFF_EVENTS_CLEARED = 32;
    public static final int OFF_SYNC_SIZE = 40;
    public static final int OFF_STATE = 48;
    public static final int OFF_CHUNKSIZE = 52;
    public static final int OFF_DAEMON_SLEEP = 56;
    public static final int OFF_WRITE_BEHIND = 60;
    public static final int OFF_SECTORS_RESERVED = 64;
    public static final int OFF_NODES = 68;
    public static final int OFF_CLUSTER_NAME = 72;
    public static final int CLUSTER_NAME_BYTES = 64;
    public static final int OFF_PAD = OFF_CLUSTER_NAME + CLUSTER_NAME_BYTES;

    /** Bits needed to cover {@code syncSizeSectors} (mdadm bitmap_bits: round up). */
    public static long bits(long syncSizeSectors, long chunkBytes) {
        assert chunkBytes >= MIN_CHUNK_BYTES : "chunk " + chunkBytes;
        return Math.ceilDiv(syncSizeSectors * Superblock1Layout.SECTOR_BYTES, chunkBytes);
    }

    /** Bytes of bits after the header. */
    public static long bitsBytes(long syncSizeSectors, long chunkBytes) {
        return Math.ceilDiv(bits(syncSizeSectors, chunkBytes), 8);
    }

    /**
     * Header plus bits, rounded up to {@code boundaryBytes} (mdadm calc_bitmap_size: 4096 when
     * reserving space, 512 when the bitmap offset is not 4 KiB aligned).
     */
    public static long areaBytes(long syncSizeSectors, long chunkBytes, int boundaryBytes) {
        long bytes = HEADER_BYTES + bitsBytes(syncSizeSectors, chunkBytes);
        return Math.ceilDiv(bytes, boundaryBytes) * boundaryBytes;
    }

    /** The chunk (bit number) covering array sector {@code sector}. */
    public static long chunkOf(long sector, long chunkBytes) {
        return sector / (chunkBytes / Superblock1Layout.SECTOR_BYTES);
    }

    /** Byte offset, from the start of the bitmap area, of the byte holding chunk {@code chunk}'s bit. */
    public static long bitByteOffset(long chunk) {
        return HEADER_BYTES + chunk / 8;
    }

    /** Mask of chunk {@code chunk}'s bit within its byte (little-endian bit order). */
    public static int bitMask(long chunk) {
        return 1 << (int) (chunk % 8);
    }
}

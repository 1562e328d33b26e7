package io.jmd.md.format;

/**
 * Byte layout of {@code struct mdp_superblock_1} (include/uapi/linux/raid/md_p.h), little-endian.
 *
 * <pre>
 *  0x00 magic u32           0x50 size u64             0x98 recovery_offset u64
 *  0x04 major_version u32   0x58 chunksize u32        0xA0 dev_number u32
 *  0x08 feature_map u32     0x5C raid_disks u32       0xA4 cnt_corrected_read u32
 *  0x0C pad0 u32            0x60 bitmap_offset s32    0xA8 device_uuid[16]
 *  0x10 set_uuid[16]        0x64 new_level u32        0xB8 devflags u8
 *  0x20 set_name[32]        0x68 reshape_position u64 0xB9 bblog_shift u8
 *  0x40 ctime u64           0x70 delta_disks s32      0xBA bblog_size u16
 *  0x48 level s32           0x74 new_layout u32       0xBC bblog_offset s32
 *  0x4C layout u32          0x78 new_chunk u32        0xC0 utime u64
 *                           0x7C new_offset s32       0xC8 events u64
 *                           0x80 data_offset u64      0xD0 resync_offset u64
 *                           0x88 data_size u64        0xD8 sb_csum u32
 *                           0x90 super_offset u64     0xDC max_dev u32
 *                                                     0xE0 pad3[32]
 *                                                    0x100 dev_roles[max_dev] u16
 * </pre>
 */
public final class Superblock1Layout {
    private Superblock1Layout() {}

    public static final int MAGIC = 0xa92b4efc;
    public static final int MAJOR_VERSION = 1;

    /** Size of the fixed part; dev_roles follow it. */
    public static final int HEADER_BYTES = 256;
    public static final int SECTOR_BYTES = 512;

    /**
     * Largest max_dev the kernel accepts: the superblock plus roles must fit in 4 KiB
     * ((4096 - 256) / 2 = 1920, md.c super_1_load).
     */
    public static final int MAX_DEV_LIMIT = (4096 - HEADER_BYTES) / 2;

    /** What mdadm writes: 256 + 2*128 fills exactly one sector. */
    public static final int MAX_DEV_DEFAULT = 128;

    /** The kernel refuses members whose data area is smaller than this (super_1_load). */
    public static final long MIN_DATA_SIZE_SECTORS = 10;

    /** resync_offset value meaning "in sync everywhere" (the kernel's MaxSector, ~0). */
    public static final long MAX_SECTOR = -1L;

    public static final int OFF_MAGIC = 0x00;
    public static final int OFF_MAJOR_VERSION = 0x04;
    public static final int OFF_FEATURE_MAP = 0x08;
    public static final int OFF_PAD0 = 0x0C;
    public static final int OFF_SET_UUID = 0x10;
    public static final int OFF_SET_NAME = 0x20;
    public static final int OFF_CTIME = 0x40;
    public static final int OFF_LEVEL = 0x48;
    public static final int OFF_LAYOUT = 0x4C;
    public static final int OFF_SIZE = 0x50;
    public static final int OFF_CHUNKSIZE = 0x58;
    public static final int OFF_RAID_DISKS = 0x5C;
    public static final int OFF_BITMAP_OFFSET = 0x60;
    public static final int OFF_NEW_LEVEL = 0x64;
    public static final int OFF_RESHAPE_POSITION = 0x68;
    public static final int OFF_DELTA_DISKS = 0x70;
    public static final int OFF_NEW_LAYOUT = 0x74;
    public static final int OFF_NEW_CHUNK = 0x78;
    public static final int OFF_NEW_OFFSET = 0x7C;
    public static final int OFF_DATA_OFFSET = 0x80;
    public static final int OFF_DATA_SIZE = 0x88;
    public static final int OFF_SUPER_OFFSET = 0x90;
    public static final int OFF_RECOVERY_OFFSET = 0x98;
    public static final int OFF_DEV_NUMBER = 0xA0;
    public static final int OFF_CNT_CORRECTED_READ = 0xA4;
    public static final int OFF_DEVICE_UUID = 0xA8;
    public static final int OFF_DEVFLAGS = 0xB8;
    public static final int OFF_BBLOG_SHIFT = 0xB9;
    public static final int OFF_BBLOG_SIZE = 0xBA;
    public static final int OFF_BBLOG_OFFSET = 0xBC;
    public static final int OFF_UTIME = 0xC0;
    public static final int OFF_EVENTS = 0xC8;
    public static final int OFF_RESYNC_OFFSET = 0xD0;
    public static final int OFF_SB_CSUM = 0xD8;
    public static final int OFF_MAX_DEV = 0xDC;
    public static final int OFF_PAD3 = 0xE0;
    public static final int PAD3_BYTES = 32;
    public static final int OFF_DEV_ROLES = 0x100;

    public static final int UUID_BYTES = 16;
    public static final int NAME_BYTES = 32;

    /** devflags bits. */
    public static final int DEVFLAG_WRITE_MOSTLY = 1;
    public static final int DEVFLAG_FAIL_FAST = 2;

    /** Bytes covered by the checksum: the header plus the dev_roles array. */
    public static int checksummedBytes(int maxDev) {
        return HEADER_BYTES + 2 * maxDev;
    }

    /** Bytes written to disk: the checksummed bytes rounded up to whole sectors. */
    public static int onDiskBytes(int maxDev) {
        int bytes = checksummedBytes(maxDev);
        return (bytes + SECTOR_BYTES - 1) / SECTOR_BYTES * SECTOR_BYTES;
    }

    /** Sectors the superblock occupies on disk (the kernel's sb_size / 512). */
    public static int onDiskSectors(int maxDev) {
        return onDiskBytes(maxDev) / SECTOR_BYTES;
    }
}

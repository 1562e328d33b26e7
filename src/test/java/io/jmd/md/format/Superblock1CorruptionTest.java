package io.jmd.md.format;

import static io.jmd.md.format.MdFixtures.*;
import static io.jmd.md.format.Superblock1Layout.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Each kind of damage is refused with a SuperblockException that names the field and the values. */
class Superblock1CorruptionTest {
    private final byte[] good = superblockBytes(RAID5_LS, 0);

    /** A copy of the good superblock with {@code change} applied and the checksum made valid again. */
    private byte[] damaged(Consumer<ByteBuffer> change) {
        return damagedKeepingChecksum(buffer -> {
            change.accept(buffer);
            buffer.putInt(OFF_SB_CSUM, Superblock1Codec.checksum(buffer, buffer.getInt(OFF_MAX_DEV)));
        });
    }

    private byte[] damagedKeepingChecksum(Consumer<ByteBuffer> change) {
        byte[] copy = good.clone();
        change.accept(ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN));
        return copy;
    }

    private String rejection(byte[] bytes) {
        return rejection(bytes, SuperblockLocation.V1_2, MEMBER_SECTORS);
    }

    private static String rejection(byte[] bytes, SuperblockLocation location, long deviceSectors) {
        SuperblockException e = assertThrows(SuperblockException.class,
                () -> Superblock1.decode(bytes, location, deviceSectors));
        return e.getMessage();
    }

    @Test
    void goodSuperblockIsAccepted() throws SuperblockException {
        assertEquals(5, Superblock1.decode(good, SuperblockLocation.V1_2, MEMBER_SECTORS).level());
    }

    @Test
    void flippedMagic() {
        byte[] bytes = damagedKeepingChecksum(b -> b.putInt(OFF_MAGIC, 0));
        assertEquals("bad magic 0x00000000 at sector 8 (expected 0xa92b4efc)", rejection(bytes));
        bytes = damagedKeepingChecksum(b -> b.put(OFF_MAGIC, (byte) 0xfd));
        assertEquals("bad magic 0xa92b4efd at sector 8 (expected 0xa92b4efc)", rejection(bytes));
    }

    @Test
    void badChecksum() {
        byte[] bytes = damagedKeepingChecksum(b -> b.putLong(OFF_EVENTS, 22));
        String message = rejection(bytes);
        assertEquals("checksum mismatch: stored 0x3d82269f, computed 0x3d8226a0", message);
    }

    @Test
    void unknownFeatureBit() {
        byte[] bytes = damaged(b -> b.putInt(OFF_FEATURE_MAP, 1 << 13));
        assertEquals("unknown feature bits 0x2000 in feature_map 0x2000", rejection(bytes));
    }

    @Test
    void truncatedBuffer() {
        assertEquals("truncated superblock at sector 8: 100 bytes, need at least 256",
                rejection(Arrays.copyOf(good, 100)));
        assertEquals("truncated superblock at sector 8: 300 bytes, max_dev 128 needs 512",
                rejection(Arrays.copyOf(good, 300)));
        assertEquals("truncated superblock at sector 8: 0 bytes, need at least 256", rejection(new byte[0]));
    }

    @Test
    void dataOffsetPastDeviceEnd() {
        byte[] bytes = damaged(b -> b.putLong(OFF_DATA_OFFSET, 40000));
        assertEquals("data_offset 40000 + data_size 30720 is past the device end (32768 sectors)", rejection(bytes));
        bytes = damaged(b -> b.putLong(OFF_DATA_SIZE, 30721));
        assertEquals("data_offset 2048 + data_size 30721 is past the device end (32768 sectors)", rejection(bytes));
    }

    @Test
    void deviceSmallerThanTheSuperblockSays() {
        assertEquals("data_offset 2048 + data_size 30720 is past the device end (32767 sectors)",
                rejection(good, SuperblockLocation.V1_2, MEMBER_SECTORS - 1));
        assertEquals("device too small for md: 20 sectors (need at least 24)",
                rejection(good, SuperblockLocation.V1_2, 20));
    }

    @Test
    void nonzeroPads() {
        assertEquals("nonzero pad0 0x00000001 at offset 0x0c", rejection(damaged(b -> b.putInt(OFF_PAD0, 1))));
        assertEquals("nonzero pad3 byte 0x7f at offset 0xf0", rejection(damaged(b -> b.put(0xF0, (byte) 0x7f))));
    }

    @Test
    void wrongMinorVersionLocation() {
        assertEquals("super_offset 8 does not match the 1.1 location (sector 0)",
                rejection(good, SuperblockLocation.V1_1, MEMBER_SECTORS));
        assertEquals("super_offset 8 does not match the 1.0 location (sector 32752)",
                rejection(good, SuperblockLocation.V1_0, MEMBER_SECTORS));
    }

    @Test
    void headerFields() {
        assertEquals("unsupported major_version 2 at sector 8 (expected 1)",
                rejection(damaged(b -> b.putInt(OFF_MAJOR_VERSION, 2))));
        assertEquals("max_dev 5000 outside 1..1920", rejection(damagedKeepingChecksum(b -> b.putInt(OFF_MAX_DEV, 5000))));
        assertEquals("max_dev 0 outside 1..1920", rejection(damagedKeepingChecksum(b -> b.putInt(OFF_MAX_DEV, 0))));
    }

    @Test
    void arrayShape() {
        assertEquals("unknown level 7", rejection(damaged(b -> b.putInt(OFF_LEVEL, 7))));
        assertEquals("raid_disks 1 invalid for raid5 (need 2..max_dev 128)",
                rejection(damaged(b -> b.putInt(OFF_RAID_DISKS, 1))));
        assertEquals("raid_disks 200 invalid for raid5 (need 2..max_dev 128)",
                rejection(damaged(b -> b.putInt(OFF_RAID_DISKS, 200))));
        assertEquals("dev_number 128 outside dev_roles[128]", rejection(damaged(b -> b.putInt(OFF_DEV_NUMBER, 128))));
        assertEquals("layout 9 is not a raid5 algorithm", rejection(damaged(b -> b.putInt(OFF_LAYOUT, 9))));
        assertEquals("chunksize 96 sectors invalid for raid5 (must be a power of two)",
                rejection(damaged(b -> b.putInt(OFF_CHUNKSIZE, 96))));
        assertEquals("size 30721 exceeds data_size 30720", rejection(damaged(b -> b.putLong(OFF_SIZE, 30721))));
    }

    @Test
    void dataArea() {
        assertEquals("data_size 9 too small (the kernel needs at least 10 sectors)",
                rejection(damaged(b -> b.putLong(OFF_DATA_SIZE, 9).putLong(OFF_SIZE, 9))));
        assertEquals("data_offset 8 overlaps the superblock (sectors 8..8)",
                rejection(damaged(b -> b.putLong(OFF_DATA_OFFSET, 8))));
    }

    @Test
    void metadataAreas() {
        byte[] bitmapInData = damaged(b -> b.putInt(OFF_FEATURE_MAP, FeatureBits.BITMAP_OFFSET)
                .putInt(OFF_BITMAP_OFFSET, 4000));
        assertEquals("bitmap at sectors 4008..4008 overlaps the data area (sectors 2048..32767)", rejection(bitmapInData));
        byte[] bblogOnSuper = damaged(b -> b.putInt(OFF_BBLOG_OFFSET, 0xfffffffc));
        assertEquals("bad-block log at sectors 4..11 overlaps the superblock (sectors 8..8)", rejection(bblogOnSuper));
        byte[] badBlocksWithoutLog = damaged(b -> b.putInt(OFF_FEATURE_MAP, FeatureBits.BAD_BLOCKS)
                .putShort(OFF_BBLOG_SIZE, (short) 0));
        assertEquals("feature_map says bad blocks are logged but bblog_size is 0 and bblog_offset 16",
                rejection(badBlocksWithoutLog));
    }

    @Test
    void encodeRefusesAnInvalidSuperblock() throws SuperblockException {
        Superblock1 sb = Superblock1.decode(good, SuperblockLocation.V1_2, MEMBER_SECTORS);
        Superblock1 broken = sb.toBuilder().level(3).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, broken::encode);
        assertEquals("refusing to encode an invalid superblock: unknown level 3", e.getMessage());
    }
}

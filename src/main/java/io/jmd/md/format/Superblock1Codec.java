package io.jmd.md.format;

import static io.jmd.md.format.Superblock1Layout.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Moves {@link Superblock1} fields to and from their on-disk offsets. No policy here: the
 * validator decides what is acceptable, this class only knows where each field lives.
 */
final class Superblock1Codec {
    private Superblock1Codec() {}

    /** A little-endian view whose index 0 is the buffer's current position. */
    static ByteBuffer littleEndianView(ByteBuffer bytes) {
        return bytes.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    static byte[] encode(Superblock1 sb) {
        int maxDev = sb.maxDev();
        ByteBuffer out = ByteBuffer.allocate(onDiskBytes(maxDev)).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(OFF_MAGIC, MAGIC);
        out.putInt(OFF_MAJOR_VERSION, MAJOR_VERSION);
        out.putInt(OFF_FEATURE_MAP, sb.featureMap());
        out.put(OFF_SET_UUID, sb.setUuid().toBytes());
        out.put(OFF_SET_NAME, sb.setName().toField());
        out.putLong(OFF_CTIME, sb.ctime().raw());
        putArrayShape(out, sb);
        putReshape(out, sb);
        putDeviceInfo(out, sb);
        putArrayState(out, sb);
        for (int i = 0; i < maxDev; i++) {
            out.putShort(OFF_DEV_ROLES + 2 * i, (short) sb.devRoles().role(i));
        }
        out.putInt(OFF_SB_CSUM, checksum(out, maxDev));
        return out.array();
    }

    private static void putArrayShape(ByteBuffer out, Superblock1 sb) {
        out.putInt(OFF_LEVEL, sb.level());
        out.putInt(OFF_LAYOUT, sb.layout());
        out.putLong(OFF_SIZE, sb.sizeSectors());
        out.putInt(OFF_CHUNKSIZE, sb.chunkSectors());
        out.putInt(OFF_RAID_DISKS, sb.raidDisks());
        out.putInt(OFF_BITMAP_OFFSET, sb.bitmapOffsetSectors());
    }

    private static void putReshape(ByteBuffer out, Superblock1 sb) {
        out.putInt(OFF_NEW_LEVEL, sb.newLevel());
        out.putLong(OFF_RESHAPE_POSITION, sb.reshapePositionSectors());
        out.putInt(OFF_DELTA_DISKS, sb.deltaDisks());
        out.putInt(OFF_NEW_LAYOUT, sb.newLayout());
        out.putInt(OFF_NEW_CHUNK, sb.newChunkSectors());
        out.putInt(OFF_NEW_OFFSET, sb.newOffsetSectors());
    }

    private static void putDeviceInfo(ByteBuffer out, Superblock1 sb) {
        out.putLong(OFF_DATA_OFFSET, sb.dataOffsetSectors());
        out.putLong(OFF_DATA_SIZE, sb.dataSizeSectors());
        out.putLong(OFF_SUPER_OFFSET, sb.superOffsetSectors());
        out.putLong(OFF_RECOVERY_OFFSET, sb.recoveryOffsetSectors());
        out.putInt(OFF_DEV_NUMBER, sb.devNumber());
        out.putInt(OFF_CNT_CORRECTED_READ, sb.cntCorrectedRead());
        out.put(OFF_DEVICE_UUID, sb.deviceUuid().toBytes());
        out.put(OFF_DEVFLAGS, (byte) sb.devFlags());
        out.put(OFF_BBLOG_SHIFT, (byte) sb.bblogShift());
        out.putShort(OFF_BBLOG_SIZE, (short) sb.bblogSizeSectors());
        out.putInt(OFF_BBLOG_OFFSET, sb.bblogOffsetSectors());
    }

    private static void putArrayState(ByteBuffer out, Superblock1 sb) {
        out.putLong(OFF_UTIME, sb.utime().raw());
        out.putLong(OFF_EVENTS, sb.events());
        out.putLong(OFF_RESYNC_OFFSET, sb.resyncOffsetSectors());
        out.putInt(OFF_MAX_DEV, sb.maxDev());
    }

    /** Reads every field; the caller has checked the buffer holds 256 + 2*max_dev bytes. */
    static Superblock1 decodeFields(ByteBuffer in) {
        int maxDev = in.getInt(OFF_MAX_DEV);
        int[] roles = new int[maxDev];
        for (int i = 0; i < maxDev; i++) {
            roles[i] = Short.toUnsignedInt(in.getShort(OFF_DEV_ROLES + 2 * i));
        }
        return new Superblock1Builder()
                .featureMap(in.getInt(OFF_FEATURE_MAP))
                .setUuid(MdUuid.of(bytes(in, OFF_SET_UUID, UUID_BYTES)))
                .setName(ArrayName.fromField(bytes(in, OFF_SET_NAME, NAME_BYTES)))
                .ctime(MdTime.fromRaw(in.getLong(OFF_CTIME)))
                .level(in.getInt(OFF_LEVEL))
                .layout(in.getInt(OFF_LAYOUT))
                .sizeSectors(in.getLong(OFF_SIZE))
                .chunkSectors(in.getInt(OFF_CHUNKSIZE))
                .raidDisks(in.getInt(OFF_RAID_DISKS))
                .bitmapOffsetSectors(in.getInt(OFF_BITMAP_OFFSET))
                .newLevel(in.getInt(OFF_NEW_LEVEL))
                .reshapePositionSectors(in.getLong(OFF_RESHAPE_POSITION))
                .deltaDisks(in.getInt(OFF_DELTA_DISKS))
                .newLayout(in.getInt(OFF_NEW_LAYOUT))
                .newChunkSectors(in.getInt(OFF_NEW_CHUNK))
                .newOffsetSectors(in.getInt(OFF_NEW_OFFSET))
                .dataOffsetSectors(in.getLong(OFF_DATA_OFFSET))
                .dataSizeSectors(in.getLong(OFF_DATA_SIZE))
                .superOffsetSectors(in.getLong(OFF_SUPER_OFFSET))
                .recoveryOffsetSectors(in.getLong(OFF_RECOVERY_OFFSET))
                .devNumber(in.getInt(OFF_DEV_NUMBER))
                .cntCorrectedRead(in.getInt(OFF_CNT_CORRECTED_READ))
                .deviceUuid(MdUuid.of(bytes(in, OFF_DEVICE_UUID, UUID_BYTES)))
                .devFlags(Byte.toUnsignedInt(in.get(OFF_DEVFLAGS)))
                .bblogShift(Byte.toUnsignedInt(in.get(OFF_BBLOG_SHIFT)))
                .bblogSizeSectors(Short.toUnsignedInt(in.getShort(OFF_BBLOG_SIZE)))
                .bblogOffsetSectors(in.getInt(OFF_BBLOG_OFFSET))
                .utime(MdTime.fromRaw(in.getLong(OFF_UTIME)))
                .events(in.getLong(OFF_EVENTS))
                .resyncOffsetSectors(in.getLong(OFF_RESYNC_OFFSET))
                .devRoles(DevRoles.of(roles))
                .build();
    }

    private static byte[] bytes(ByteBuffer in, int offset, int length) {
        byte[] out = new byte[length];
        in.get(offset, out);
        return out;
    }

    /**
     * The kernel's calc_sb_1_csum: sum the first 256 + 2*max_dev bytes as le32 words into 64 bits,
     * treating sb_csum as 0 and adding a trailing le16 when max_dev is odd; fold the carry once.
     */
    static int checksum(ByteBuffer sb, int maxDev) {
        ByteBuffer in = sb.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int size = checksummedBytes(maxDev);
        long sum = 0;
        int offset = 0;
        for (; size - offset >= 4; offset += 4) {
            sum += offset == OFF_SB_CSUM ? 0 : Integer.toUnsignedLong(in.getInt(offset));
        }
        if (size - offset == 2) {
            sum += Short.toUnsignedInt(in.getShort(offset));
        }
        return (int) ((sum & 0xffffffffL) + (sum >>> 32));
    }
}

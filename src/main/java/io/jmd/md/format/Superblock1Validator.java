package io.jmd.md.format;

import static io.jmd.md.format.Superblock1Layout.*;

import java.nio.ByteBuffer;

/**
 * The boundary validator for v1 superblocks: the kernel's acceptance rules (md.c super_1_load),
 * mdadm's placement rules (load_super1), and the geometry jmd relies on later. Each failure names
 * the field and the values. Code past this point trusts a {@link Superblock1} and only asserts.
 */
final class Superblock1Validator {
    private Superblock1Validator() {}

    /** Checks on the raw bytes, before any field is interpreted. */
    static void checkRaw(ByteBuffer view, SuperblockLocation location, long deviceSectors)
            throws SuperblockException {
        checkDeviceSize(deviceSectors);
        long sector = location.superOffsetSectors(deviceSectors);
        if (view.limit() < HEADER_BYTES) {
            throw fail("truncated superblock at sector %d: %d bytes, need at least %d", sector, view.limit(),
                    HEADER_BYTES);
        }
        int magic = view.getInt(OFF_MAGIC);
        if (magic != MAGIC) {
            throw fail("bad magic 0x%08x at sector %d (expected 0x%08x)", magic, sector, MAGIC);
        }
        int major = view.getInt(OFF_MAJOR_VERSION);
        if (major != MAJOR_VERSION) {
            throw fail("unsupported major_version %d at sector %d (expected %d)", Integer.toUnsignedLong(major), sector,
                    MAJOR_VERSION);
        }
        int maxDev = view.getInt(OFF_MAX_DEV);
        if (maxDev < 1 || maxDev > MAX_DEV_LIMIT) {
            throw fail("max_dev %d outside 1..%d", Integer.toUnsignedLong(maxDev), MAX_DEV_LIMIT);
        }
        if (view.limit() < checksummedBytes(maxDev)) {
            throw fail("truncated superblock at sector %d: %d bytes, max_dev %d needs %d", sector, view.limit(), maxDev,
                    checksummedBytes(maxDev));
        }
        checkSuperOffset(view.getLong(OFF_SUPER_OFFSET), location, deviceSectors);
        checkChecksum(view, maxDev);
        checkPads(view);
        int featureMap = view.getInt(OFF_FEATURE_MAP);
        if (FeatureBits.unknownBits(featureMap) != 0) {
            throw fail("unknown feature bits 0x%x in feature_map 0x%x", FeatureBits.unknownBits(featureMap), featureMap);
        }
    }

    private static void checkDeviceSize(long deviceSectors) throws SuperblockException {
        if (deviceSectors < SuperblockLocation.MIN_DEVICE_SECTORS) {
            throw fail("device too small for md: %d sectors (need at least %d)", deviceSectors,
                    SuperblockLocation.MIN_DEVICE_SECTORS);
        }
    }

    private static void checkSuperOffset(long superOffset, SuperblockLocation location, long deviceSectors)
            throws SuperblockException {
        long expected = location.superOffsetSectors(deviceSectors);
        if (superOffset != expected) {
            throw fail("super_offset %s does not match the %s location (sector %d)", Long.toUnsignedString(superOffset),
                    location.versionText(), expected);
        }
    }

    private static void checkChecksum(ByteBuffer view, int maxDev) throws SuperblockException {
        int stored = view.getInt(OFF_SB_CSUM);
        int computed = Superblock1Codec.checksum(view, maxDev);
        if (stored != computed) {
            throw fail("checksum mismatch: stored 0x%08x, computed 0x%08x", stored, computed);
        }
    }

    private static void checkPads(ByteBuffer view) throws SuperblockException {
        int pad0 = view.getInt(OFF_PAD0);
        if (pad0 != 0) {
            throw fail("nonzero pad0 0x%08x at offset 0x%02x", pad0, OFF_PAD0);
        }
        for (int offset = OFF_PAD3; offset < OFF_PAD3 + PAD3_BYTES; offset++) {
            if (view.get(offset) != 0) {
                throw fail("nonzero pad3 byte 0x%02x at offset 0x%02x", view.get(offset) & 0xff, offset);
            }
        }
    }

    /** Rules that hold whatever device the superblock sits on; also checked before encoding. */
    static void checkStructure(Superblock1 sb) throws SuperblockException {
        if (FeatureBits.unknownBits(sb.featureMap()) != 0) {
            throw fail("unknown feature bits 0x%x in feature_map 0x%x", FeatureBits.unknownBits(sb.featureMap()),
                    sb.featureMap());
        }
        RaidLevel level = RaidLevel.fromCode(sb.level())
                .orElseThrow(() -> fail("unknown level %d", sb.level()));
        if (sb.raidDisks() < level.minRaidDisks() || sb.raidDisks() > sb.maxDev()) {
            throw fail("raid_disks %d invalid for %s (need %d..max_dev %d)", Integer.toUnsignedLong(sb.raidDisks()),
                    level.mdadmName(), level.minRaidDisks(), sb.maxDev());
        }
        if (sb.devNumber() < 0 || sb.devNumber() >= sb.maxDev()) {
            throw fail("dev_number %d outside dev_roles[%d]", Integer.toUnsignedLong(sb.devNumber()), sb.maxDev());
        }
        if (Long.compareUnsigned(sb.dataSizeSectors(), MIN_DATA_SIZE_SECTORS) < 0) {
            throw fail("data_size %d too small (the kernel needs at least %d sectors)", sb.dataSizeSectors(),
                    MIN_DATA_SIZE_SECTORS);
        }
        if (level.hasComponentSize() && Long.compareUnsigned(sb.sizeSectors(), sb.dataSizeSectors()) > 0) {
            throw fail("size %s exceeds data_size %d", Long.toUnsignedString(sb.sizeSectors()), sb.dataSizeSectors());
        }
        checkChunk(sb, level);
        checkLayout(sb, level);
        if (sb.hasFeature(FeatureBits.BAD_BLOCKS) && (sb.bblogSizeSectors() == 0 || sb.bblogOffsetSectors() == 0)) {
            throw fail("feature_map says bad blocks are logged but bblog_size is %d and bblog_offset %d",
                    sb.bblogSizeSectors(), sb.bblogOffsetSectors());
        }
    }

    private static void checkChunk(Superblock1 sb, RaidLevel level) throws SuperblockException {
        int chunk = sb.chunkSectors();
        if (level.isStriped() && chunk <= 0) {
            throw fail("chunksize %d invalid for %s (must be positive)", Integer.toUnsignedLong(chunk), level.mdadmName());
        }
        boolean powerOfTwoRequired = level != RaidLevel.RAID0 && level.isStriped();
        if (powerOfTwoRequired && Integer.bitCount(chunk) != 1) {
            throw fail("chunksize %d sectors invalid for %s (must be a power of two)", chunk, level.mdadmName());
        }
    }

    private static void checkLayout(Superblock1 sb, RaidLevel level) throws SuperblockException {
        int layout = sb.layout();
        if (level == RaidLevel.RAID5 && Raid5Algorithm.fromLayout(layout).filter(a -> a.validForRaid5()).isEmpty()) {
            throw fail("layout %d is not a raid5 algorithm", layout);
        }
        if (level == RaidLevel.RAID6 && Raid5Algorithm.fromLayout(layout).isEmpty()) {
            throw fail("layout %d is not a raid6 algorithm", layout);
        }
        if (level == RaidLevel.RAID10) {
            Raid10Layout r10 = Raid10Layout.decode(layout)
                    .orElseThrow(() -> fail("raid10 layout 0x%x invalid (near, far must be >= 1, no bits past 18)",
                            layout));
            if (r10.copies() > sb.raidDisks()) {
                throw fail("raid10 layout %s needs %d copies but raid_disks is %d", r10.mdadmName(), r10.copies(),
                        sb.raidDisks());
            }
        }
    }

    /** Rules that tie the superblock to the member it was read from (or will be written to). */
    static void checkFields(Superblock1 sb, SuperblockLocation location, long deviceSectors)
            throws SuperblockException {
        checkDeviceSize(deviceSectors);
        checkStructure(sb);
        checkSuperOffset(sb.superOffsetSectors(), location, deviceSectors);
        long superStart = sb.superOffsetSectors();
        long superEnd = superStart + onDiskSectors(sb.maxDev());
        long dataStart = sb.dataOffsetSectors();
        if (Long.compareUnsigned(dataStart, deviceSectors) > 0
                || Long.compareUnsigned(sb.dataSizeSectors(), deviceSectors - dataStart) > 0) {
            throw fail("data_offset %s + data_size %s is past the device end (%d sectors)",
                    Long.toUnsignedString(dataStart), Long.toUnsignedString(sb.dataSizeSectors()), deviceSectors);
        }
        long dataEnd = dataStart + sb.dataSizeSectors();
        if (location.isAtStart() && dataStart < superEnd) {
            throw fail("data_offset %d overlaps the superblock (sectors %d..%d)", dataStart, superStart, superEnd - 1);
        }
        if (!location.isAtStart() && dataEnd > superStart) {
            throw fail("data_offset %d + data_size %d runs into the superblock at sector %d", dataStart,
                    sb.dataSizeSectors(), superStart);
        }
        Region superblock = new Region(superStart, superEnd);
        Region data = new Region(dataStart, dataEnd);
        if (sb.hasFeature(FeatureBits.BITMAP_OFFSET)) {
            long bitmapStart = superStart + sb.bitmapOffsetSectors();
            checkArea("bitmap", bitmapStart, bitmapStart + 1, deviceSectors, superblock, data);
        }
        if (sb.bblogSizeSectors() != 0 && sb.bblogOffsetSectors() != 0) {
            long bblogStart = superStart + sb.bblogOffsetSectors();
            checkArea("bad-block log", bblogStart, bblogStart + sb.bblogSizeSectors(), deviceSectors, superblock, data);
        }
    }

    private record Region(long startSector, long endSector) {
        boolean overlaps(long start, long end) {
            return start < endSector && startSector < end;
        }
    }

    private static void checkArea(String what, long start, long end, long deviceSectors, Region superblock, Region data)
            throws SuperblockException {
        if (start < 0 || end > deviceSectors) {
            throw fail("%s at sectors %d..%d is outside the device (%d sectors)", what, start, end - 1, deviceSectors);
        }
        if (superblock.overlaps(start, end)) {
            throw fail("%s at sectors %d..%d overlaps the superblock (sectors %d..%d)", what, start, end - 1,
                    superblock.startSector(), superblock.endSector() - 1);
        }
        if (data.overlaps(start, end)) {
            throw fail("%s at sectors %d..%d overlaps the data area (sectors %d..%d)", what, start, end - 1,
                    data.startSector(), data.endSector() - 1);
        }
    }

    private static SuperblockException fail(String format, Object... args) {
        return new SuperblockException(String.format(format, args));
    }
}

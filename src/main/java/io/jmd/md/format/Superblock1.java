package io.jmd.md.format;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One member's v1 superblock ({@code struct mdp_superblock_1}), decoded. Field offsets are in
 * {@link Superblock1Layout}; names carry units last. magic, major_version, the pads, sb_csum and
 * max_dev are not stored: the first four are constants or derived when encoding, and max_dev is
 * {@code devRoles.size()}.
 *
 * <p>Instances are immutable; {@link #toBuilder()} makes a changed copy. An instance from
 * {@link #decode} has passed every check in {@link Superblock1Validator}; {@link #encode()} checks
 * again before producing bytes (paired checks, STYLE.md habit 2).
 *
 * @param featureMap            0x08 {@link FeatureBits}
 * @param setUuid               0x10 the array's UUID, the same on every member
 * @param setName               0x20 "homehost:name"
 * @param ctime                 0x40 array creation time
 * @param level                 0x48 {@link RaidLevel#code()} (signed: linear is -1)
 * @param layout                0x4C raid5/6 algorithm, raid10 near|far&lt;&lt;8|offset, raid0 layout
 * @param sizeSectors           0x50 sectors of each member used by the array (0 for raid0/linear)
 * @param chunkSectors          0x58 chunk size (raid0/4/5/6/10), rounding for linear, 0 for raid1
 * @param raidDisks             0x5C number of slots in the array
 * @param bitmapOffsetSectors   0x60 signed offset of the bitmap from the superblock (union: PPL)
 * @param newLevel              0x64 reshape target level
 * @param reshapePositionSectors 0x68 next array sector the reshape will move
 * @param deltaDisks            0x70 change of raid_disks during a reshape
 * @param newLayout             0x74 reshape target layout
 * @param newChunkSectors       0x78 reshape target chunk size
 * @param newOffsetSectors      0x7C signed change of data_offset during a reshape
 * @param dataOffsetSectors     0x80 where the member's data starts
 * @param dataSizeSectors       0x88 sectors available for data from dataOffset on
 * @param superOffsetSectors    0x90 where this superblock lives (fixes the minor version)
 * @param recoveryOffsetSectors 0x98 rebuilt up to here (with {@link FeatureBits#RECOVERY_OFFSET})
 * @param devNumber             0xA0 this member's index into devRoles
 * @param cntCorrectedRead      0xA4 read errors fixed by rewriting
 * @param deviceUuid            0xA8 this member's UUID
 * @param devFlags              0xB8 write-mostly (1), failfast (2)
 * @param bblogShift            0xB9 bad-block log unit: sectors &lt;&lt; shift
 * @param bblogSizeSectors      0xBA sectors reserved for the bad-block log
 * @param bblogOffsetSectors    0xBC signed offset of the bad-block log from the superblock
 * @param utime                 0xC0 last superblock update
 * @param events                0xC8 bumped on every superblock update
 * @param resyncOffsetSectors   0xD0 in sync below this array sector; ~0 means clean
 * @param devRoles              0x100 role of each dev_number; its length is max_dev (0xDC)
 */
public record Superblock1(
        int featureMap,
        MdUuid setUuid,
        ArrayName setName,
        MdTime ctime,
        int level,
        int layout,
        long sizeSectors,
        int chunkSectors,
        int raidDisks,
        int bitmapOffsetSectors,
        int newLevel,
        long reshapePositionSectors,
        int deltaDisks,
        int newLayout,
        int newChunkSectors,
        int newOffsetSectors,
        long dataOffsetSectors,
        long dataSizeSectors,
        long superOffsetSectors,
        long recoveryOffsetSectors,
        int devNumber,
        int cntCorrectedRead,
        MdUuid deviceUuid,
        int devFlags,
        int bblogShift,
        int bblogSizeSectors,
        int bblogOffsetSectors,
        MdTime utime,
        long events,
        long resyncOffsetSectors,
        DevRoles devRoles) {

    public Superblock1 {
        Objects.requireNonNull(setUuid, "setUuid");
        Objects.requireNonNull(setName, "setName");
        Objects.requireNonNull(ctime, "ctime");
        Objects.requireNonNull(deviceUuid, "deviceUuid");
        Objects.requireNonNull(utime, "utime");
        Objects.requireNonNull(devRoles, "devRoles");
        checkUnsigned("devflags", devFlags, 0xff);
        checkUnsigned("bblog_shift", bblogShift, 0xff);
        checkUnsigned("bblog_size", bblogSizeSectors, 0xffff);
    }

    private static void checkUnsigned(String field, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(field + " " + value + " outside 0.." + max);
        }
    }

    /**
     * Decodes and validates the superblock found at {@code location} on a member of
     * {@code deviceSectors} sectors. {@code bytes} starts at the superblock; it must hold at least
     * 256 + 2*max_dev bytes (a 4 KiB read always does).
     */
    public static Superblock1 decode(byte[] bytes, SuperblockLocation location, long deviceSectors)
            throws SuperblockException {
        return decode(ByteBuffer.wrap(bytes), location, deviceSectors);
    }

    /** As {@link #decode(byte[], SuperblockLocation, long)}, from the buffer's position on. */
    public static Superblock1 decode(ByteBuffer bytes, SuperblockLocation location, long deviceSectors)
            throws SuperblockException {
        ByteBuffer view = Superblock1Codec.littleEndianView(bytes);
        Superblock1Validator.checkRaw(view, location, deviceSectors);
        Superblock1 superblock = Superblock1Codec.decodeFields(view);
        Superblock1Validator.checkFields(superblock, location, deviceSectors);
        return superblock;
    }

    /**
     * The on-disk bytes: 256 + 2*max_dev rounded up to whole sectors, zero-padded, with sb_csum
     * computed like the kernel's calc_sb_1_csum. Refuses (programmer error) a superblock that
     * fails the device-independent checks.
     */
    public byte[] encode() {
        try {
            Superblock1Validator.checkStructure(this);
        } catch (SuperblockException e) {
            throw new IllegalStateException("refusing to encode an invalid superblock: " + e.getMessage(), e);
        }
        byte[] bytes = Superblock1Codec.encode(this);
        assert Superblock1Codec.decodeFields(Superblock1Codec.littleEndianView(ByteBuffer.wrap(bytes))).equals(this)
                : "encoded superblock does not decode to itself";
        return bytes;
    }

    /** Checks everything {@link #decode} checks, against a concrete member; use before writing. */
    public void validate(SuperblockLocation location, long deviceSectors) throws SuperblockException {
        Superblock1Validator.checkStructure(this);
        Superblock1Validator.checkFields(this, location, deviceSectors);
    }

    /** sb_csum as written by {@link #encode()} (and as the kernel would compute it). */
    public int checksum() {
        return Superblock1Codec.checksum(ByteBuffer.wrap(Superblock1Codec.encode(this)), maxDev());
    }

    public int maxDev() {
        return devRoles.size();
    }

    public boolean hasFeature(int bit) {
        return FeatureBits.has(featureMap, bit);
    }

    /** resync_offset == MaxSector: nothing needs resync (mdadm prints "State : clean"). */
    public boolean isClean() {
        return resyncOffsetSectors == Superblock1Layout.MAX_SECTOR;
    }

    /** The level as a known personality; present for every decoded superblock. */
    public RaidLevel raidLevel() {
        return RaidLevel.fromCode(level).orElseThrow(() -> new IllegalStateException("unknown level " + level));
    }

    /** This member's role: its dev_roles entry (spare when dev_number is outside the table). */
    public int role() {
        return devNumber < devRoles.size() ? devRoles.role(devNumber) : DevRole.SPARE;
    }

    /** With {@link FeatureBits#PPL}: the low 16 bits of the bitmap_offset union, signed. */
    public int pplOffsetSectors() {
        return (short) bitmapOffsetSectors;
    }

    /** With {@link FeatureBits#PPL}: the high 16 bits of the bitmap_offset union. */
    public int pplSizeSectors() {
        return bitmapOffsetSectors >>> 16;
    }

    public Superblock1Builder toBuilder() {
        return new Superblock1Builder(this);
    }

    public Superblock1 withEvents(long newEvents) {
        return toBuilder().events(newEvents).build();
    }

    public Superblock1 withResyncOffsetSectors(long sectors) {
        return toBuilder().resyncOffsetSectors(sectors).build();
    }
}

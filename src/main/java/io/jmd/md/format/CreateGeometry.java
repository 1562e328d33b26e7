package io.jmd.md.format;

import java.util.Arrays;

/**
 * The on-disk geometry mdadm 4.x would give a new array (super1.c, Create.c), and the member
 * superblocks and bitmap superblock that describe it. Rules are in {@link MdadmCreateRules}.
 *
 * <p>Superblocks made here describe an array whose members all hold their slot (role = dev_number,
 * as with --assume-clean); whether a resync is still owed is the caller's choice of
 * resync_offset. mdadm instead leaves raid5's last member as a spare to be recovered, and writes
 * events 0 before the kernel first assembles the array; so do we for events.
 *
 * @param options                  what was asked for, defaults filled in
 * @param chunkSectors             chunksize field (0 for raid1)
 * @param dataOffsetSectors        same on every member
 * @param componentSectors         size field: sectors used on each member (0 for raid0/linear)
 * @param memberDataSectors        data_size of each member
 * @param memberSuperOffsetSectors super_offset of each member (differs only for 1.0)
 * @param bitmapOffsetSectors      bitmap_offset (0 without a bitmap)
 * @param bitmapChunkBytes         bitmap chunk (0 without a bitmap)
 * @param bitmapSyncSectors        bitmap sync_size (0 without a bitmap)
 * @param bblogOffsetSectors       bblog_offset from the superblock, 0 when there is no room
 * @param bblogSizeSectors         bblog_size, 0 when there is no room
 * @param arraySectors             size of the array the kernel will expose
 */
public record CreateGeometry(
        CreateOptions options,
        int chunkSectors,
        long dataOffsetSectors,
        long componentSectors,
        long[] memberDataSectors,
        long[] memberSuperOffsetSectors,
        int bitmapOffsetSectors,
        int bitmapChunkBytes,
        long bitmapSyncSectors,
        int bblogOffsetSectors,
        int bblogSizeSectors,
        long arraySectors) {

    /** Geometry for members of the given sizes (in sectors), one per slot, in slot order. */
    public static CreateGeometry compute(CreateOptions options, long... memberSectors) {
        if (memberSectors.length != options.raidDisks()) {
            throw new IllegalArgumentException(options.raidDisks() + " raid devices but " + memberSectors.length
                    + " member sizes");
        }
        for (long sectors : memberSectors) {
            if (sectors < SuperblockLocation.MIN_DEVICE_SECTORS) {
                throw new IllegalArgumentException("member of " + sectors + " sectors is too small for md");
            }
        }
        return options.location().isAtStart()
                ? CreateGeometryAtStart.compute(options, memberSectors)
                : CreateGeometryAtEnd.compute(options, memberSectors);
    }

    public boolean hasBitmap() {
        return options.internalBitmap();
    }

    public int featureMap() {
        int features = hasBitmap() ? FeatureBits.BITMAP_OFFSET : 0;
        if (options.level() == RaidLevel.RAID0 && options.layout() != 0) {
            features |= FeatureBits.RAID0_LAYOUT;
        }
        return features;
    }

    /** max_dev as mdadm sizes it: room for every slot, rounded to whole 512-byte sectors. */
    public int maxDev() {
        int bytes = Superblock1Layout.onDiskBytes(options.raidDisks());
        return (bytes - Superblock1Layout.HEADER_BYTES) / 2;
    }

    /**
     * The superblock for the member in slot {@code devNumber}, clean (resync_offset = MaxSector)
     * and with utime = ctime.
     */
    public Superblock1 memberSuperblock(int devNumber, ArrayIdentity identity, MdUuid deviceUuid) {
        if (devNumber < 0 || devNumber >= options.raidDisks()) {
            throw new IllegalArgumentException("dev_number " + devNumber + " outside 0.." + (options.raidDisks() - 1));
        }
        DevRoles roles = DevRoles.allSpare(maxDev());
        for (int slot = 0; slot < options.raidDisks(); slot++) {
            roles = roles.with(slot, slot);
        }
        return new Superblock1Builder()
                .featureMap(featureMap()).setUuid(identity.setUuid()).setName(identity.name())
                .ctime(identity.ctime()).utime(identity.ctime())
                .level(options.level().code()).layout(options.layout()).sizeSectors(componentSectors)
                .chunkSectors(chunkSectors).raidDisks(options.raidDisks()).bitmapOffsetSectors(bitmapOffsetSectors)
                .dataOffsetSectors(dataOffsetSectors).dataSizeSectors(memberDataSectors[devNumber])
                .superOffsetSectors(memberSuperOffsetSectors[devNumber])
                .devNumber(devNumber).deviceUuid(deviceUuid)
                .bblogSizeSectors(bblogSizeSectors).bblogOffsetSectors(bblogOffsetSectors)
                .events(0).resyncOffsetSectors(Superblock1Layout.MAX_SECTOR).devRoles(roles)
                .build();
    }

    /** The bitmap superblock every member carries (same on all of them). */
    public BitmapSuperblock bitmapSuperblock(MdUuid setUuid) {
        if (!hasBitmap()) {
            throw new IllegalStateException("array has no internal bitmap");
        }
        return BitmapSuperblock.create(setUuid, bitmapSyncSectors, bitmapChunkBytes);
    }

    @Override
    public long[] memberDataSectors() {
        return memberDataSectors.clone();
    }

    @Override
    public long[] memberSuperOffsetSectors() {
        return memberSuperOffsetSectors.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CreateGeometry that && options.equals(that.options)
                && chunkSectors == that.chunkSectors && dataOffsetSectors == that.dataOffsetSectors
                && componentSectors == that.componentSectors
                && Arrays.equals(memberDataSectors, that.memberDataSectors)
                && Arrays.equals(memberSuperOffsetSectors, that.memberSuperOffsetSectors)
                && bitmapOffsetSectors == that.bitmapOffsetSectors && bitmapChunkBytes == that.bitmapChunkBytes
                && bitmapSyncSectors == that.bitmapSyncSectors && bblogOffsetSectors == that.bblogOffsetSectors
                && bblogSizeSectors == that.bblogSizeSectors && arraySectors == that.arraySectors;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(memberDataSectors) * 31 + Long.hashCode(dataOffsetSectors);
    }

    @Override
    public String toString() {
        return "CreateGeometry[" + options + ", chunk=" + chunkSectors + ", dataOffset=" + dataOffsetSectors
                + ", size=" + componentSectors + ", dataSize=" + Arrays.toString(memberDataSectors) + ", superOffset="
                + Arrays.toString(memberSuperOffsetSectors) + ", bitmap=" + bitmapOffsetSectors + "/"
                + bitmapChunkBytes + "/" + bitmapSyncSectors + ", bblog=" + bblogOffsetSectors + "/"
                + bblogSizeSectors + ", array=" + arraySectors + "]";
    }
}

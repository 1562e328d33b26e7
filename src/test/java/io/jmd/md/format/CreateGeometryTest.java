package io.jmd.md.format;

import static io.jmd.md.format.MdFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** mdadm's --create arithmetic, checked against the kernel-made fixtures and against mdadm's source rules. */
class CreateGeometryTest {
    private static final long MIB_SECTORS = 2048;

    private static long[] members(int count, long sectors) {
        long[] sizes = new long[count];
        java.util.Arrays.fill(sizes, sectors);
        return sizes;
    }

    private static Superblock1 fixture(String array) throws SuperblockException {
        return Superblock1.decode(superblockBytes(array, 0), SuperblockLocation.V1_2, MEMBER_SECTORS);
    }

    private static CreateOptions fixtureOptions(String array) {
        return switch (array) {
            case RAID1_BITMAP -> CreateOptions.defaults(RaidLevel.RAID1, 2).withInternalBitmap(true);
            case RAID5_LS -> CreateOptions.defaults(RaidLevel.RAID5, 3).withChunkKib(64);
            case RAID10_N2 -> CreateOptions.defaults(RaidLevel.RAID10, 4).withChunkKib(64);
            default -> throw new IllegalArgumentException(array);
        };
    }

    /** The fields mdadm computed for the fixtures equal ours, for all three arrays. */
    @Test
    void matchesTheFixtures() throws SuperblockException {
        for (String array : new String[] {RAID1_BITMAP, RAID5_LS, RAID10_N2}) {
            Superblock1 disk = fixture(array);
            CreateGeometry geometry = CreateGeometry.compute(fixtureOptions(array),
                    members(disk.raidDisks(), MEMBER_SECTORS));
            ArrayIdentity identity = new ArrayIdentity(disk.setUuid(), disk.setName(), disk.ctime());
            Superblock1 made = geometry.memberSuperblock(0, identity, disk.deviceUuid());
            // What the kernel changed after creation: events, utime; everything else is mdadm's.
            Superblock1Builder expectedBuilder = disk.toBuilder().events(0).utime(disk.ctime());
            if (array.equals(RAID5_LS)) {
                // mdadm made raid5's last member a spare and the kernel recovered onto it (dev 3 -> slot 2);
                // we describe the finished array directly.
                assertEquals(DevRoles.allSpare(128).with(0, 0).with(1, 1).with(3, 2), disk.devRoles());
                expectedBuilder.devRoles(DevRoles.allSpare(128).with(0, 0).with(1, 1).with(2, 2));
            }
            Superblock1 expected = expectedBuilder.build();
            assertEquals(expected, made, array);
            assertArrayEquals(expected.encode(), made.encode(), array);
        }
    }

    @Test
    void raid1WithBitmapOnSixteenMebibytes() {
        CreateGeometry g = CreateGeometry.compute(fixtureOptions(RAID1_BITMAP), members(2, MEMBER_SECTORS));
        assertEquals(2048, g.dataOffsetSectors());
        assertEquals(30720, g.componentSectors());
        assertEquals(30720, g.arraySectors(), "Array Size : 15360 KiB");
        assertEquals(8, g.bitmapOffsetSectors());
        assertEquals(64 << 20, g.bitmapChunkBytes(), "mdadm -X: Chunksize : 64 MB");
        assertEquals(30720, g.bitmapSyncSectors());
        assertEquals(16, g.bblogOffsetSectors(), "Bad Block Log : 512 entries available at offset 16 sectors");
        assertEquals(8, g.bblogSizeSectors());
        assertEquals(128, g.maxDev());
        assertEquals(0, g.chunkSectors());
    }

    @Test
    void arraySizesPerLevel() {
        long member = 64 * MIB_SECTORS;
        CreateGeometry raid5 = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID5, 4), members(4, member));
        assertEquals(raid5.componentSectors() * 3, raid5.arraySectors());
        CreateGeometry raid6 = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID6, 5), members(5, member));
        assertEquals(raid6.componentSectors() * 3, raid6.arraySectors());
        CreateGeometry raid4 = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID4, 3), members(3, member));
        assertEquals(raid4.componentSectors() * 2, raid4.arraySectors());
        CreateGeometry raid10 = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID10, 3), members(3, member));
        assertEquals(raid10.componentSectors() * 3 / 2 / 1024 * 1024, raid10.arraySectors(), "n2 on 3 disks, chunks");
        CreateGeometry raid1 = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID1, 3), members(3, member));
        assertEquals(raid1.componentSectors(), raid1.arraySectors());
        CreateGeometry raid0 = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID0, 2), member, member + 1000);
        assertEquals(0, raid0.componentSectors(), "raid0 leaves size 0");
        long[] data = raid0.memberDataSectors();
        assertEquals(data[0] / 1024 * 1024 + data[1] / 1024 * 1024, raid0.arraySectors(), "each rounded to 512K");
        CreateGeometry linear = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.LINEAR, 2), member, member);
        assertEquals(linear.memberDataSectors()[0] * 2, linear.arraySectors());
    }

    @Test
    void componentSizeRounding() {
        // 10 MiB + 100 sectors: free = 20580 - 2048 = 18532 sectors = 9266 KiB.
        long member = 10 * MIB_SECTORS + 100;
        CreateGeometry raid1 = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID1, 2), members(2, member));
        assertEquals(2048, raid1.dataOffsetSectors());
        assertEquals(9216 * 2, raid1.componentSectors(), "raid1 rounds to 64 KiB");
        assertEquals(member - 2048, raid1.memberDataSectors()[0], "data_size is the whole rest");
        CreateGeometry raid5 = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID5, 3).withChunkKib(128),
                members(3, member));
        assertEquals(9216 * 2, raid5.componentSectors(), "raid5 rounds to the chunk");
        CreateGeometry smallest = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID1, 2), member,
                member - 2000);
        assertEquals((member - 2000 - 2048) / 2 / 64 * 64 * 2, smallest.componentSectors(), "smallest member wins");
    }

    @Test
    void defaultDataOffset() {
        assertEquals(2048, MdadmCreateRules.defaultDataOffsetSectors(16 * MIB_SECTORS, 0));
        assertEquals(2048, MdadmCreateRules.defaultDataOffsetSectors(16 * MIB_SECTORS, 64));
        assertEquals(4096, MdadmCreateRules.defaultDataOffsetSectors(10 * MIB_SECTORS, 512), "util-linux mdraid-1.img");
        // 1 TiB: headroom 128 MiB (0.1% is more), bitmap space 128 KiB: 24 + 256 + 262144 -> 129 MiB.
        assertEquals(129 * MIB_SECTORS, MdadmCreateRules.defaultDataOffsetSectors(1024L * 1024 * MIB_SECTORS, 512));
        // 20 GiB: headroom halves to 16 MiB (16 MiB * 1024 <= 20 GiB), bitmap space 64 KiB -> 17 MiB.
        assertEquals(17 * MIB_SECTORS, MdadmCreateRules.defaultDataOffsetSectors(20L * 1024 * MIB_SECTORS, 512));
    }

    @Test
    void bitmapSpace() {
        assertEquals(0, MdadmCreateRules.bitmapSpaceSectors(127));
        assertEquals(8, MdadmCreateRules.bitmapSpaceSectors(8L * 1024 * 1024 * 2 + 8));
        assertEquals(128, MdadmCreateRules.bitmapSpaceSectors(8L * 1024 * 1024 * 2 + 9));
        assertEquals(256, MdadmCreateRules.bitmapSpaceSectors(200L * 1024 * 1024 * 2 + 128));
    }

    @Test
    void bitmapChunkGrowsWithTheArray() {
        // 4 KiB of room holds (4096 - 256) * 8 = 30720 bits; 64 MiB chunks cover 1.875 TiB.
        assertEquals(64 << 20, MdadmCreateRules.bitmapChunkBytes(30720, 30720, 0));
        long tenTib = 10L << 31;
        int chunk = MdadmCreateRules.bitmapChunkBytes(tenTib, tenTib, 0);
        assertTrue(BitmapLayout.bits(tenTib, chunk) <= (128 * 512 - 256) * 8L, "fits the 128 KiB room");
        assertEquals(64 << 20, chunk);
        long hundredTib = 100L << 31;
        assertEquals(128 << 20, MdadmCreateRules.bitmapChunkBytes(hundredTib, hundredTib, 0));
        assertEquals(1 << 20, MdadmCreateRules.bitmapChunkBytes(30720, 30720, 1 << 20), "requested chunk kept");
        assertThrows(IllegalArgumentException.class, () -> MdadmCreateRules.bitmapChunkBytes(tenTib, tenTib, 4096));
    }

    @Test
    void raid10BitmapCoversTheArray() {
        CreateGeometry g = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID10, 4).withInternalBitmap(true),
                members(4, 64 * MIB_SECTORS));
        assertEquals(g.componentSectors() * 2, g.bitmapSyncSectors());
    }

    @Test
    void metadataAtTheEnd() throws SuperblockException {
        long member = 64 * MIB_SECTORS;
        CreateGeometry g = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID1, 2)
                .withLocation(SuperblockLocation.V1_0).withInternalBitmap(true), members(2, member));
        assertEquals(0, g.dataOffsetSectors());
        assertEquals(member - 16, g.memberSuperOffsetSectors()[0]);
        assertEquals(-8, g.bblogOffsetSectors());
        assertEquals(-16, g.bitmapOffsetSectors(), "one 4 KiB bitmap block before the bad-block log");
        assertEquals(member - 16 - 16, g.memberDataSectors()[0]);
        Superblock1 sb = g.memberSuperblock(1, identity(), MdUuid.parse("00000000000000000000000000000001"));
        sb.validate(SuperblockLocation.V1_0, member);
        assertEquals(sb, Superblock1.decode(sb.encode(), SuperblockLocation.V1_0, member));
    }

    @Test
    void metadataAtTheStartV11() throws SuperblockException {
        long member = 64 * MIB_SECTORS;
        CreateGeometry g = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID5, 3)
                .withLocation(SuperblockLocation.V1_1), members(3, member));
        Superblock1 sb = g.memberSuperblock(2, identity(), MdUuid.parse("00000000000000000000000000000002"));
        assertEquals(0, sb.superOffsetSectors());
        assertEquals(16, sb.bblogOffsetSectors());
        sb.validate(SuperblockLocation.V1_1, member);
        assertThrows(SuperblockException.class, () -> sb.validate(SuperblockLocation.V1_2, member));
    }

    @Test
    void rejectsImpossibleRequests() {
        assertThrows(IllegalArgumentException.class, () -> CreateOptions.defaults(RaidLevel.RAID6, 3));
        assertThrows(IllegalArgumentException.class, () -> CreateOptions.defaults(RaidLevel.RAID1, 2).withChunkKib(64));
        assertThrows(IllegalArgumentException.class, () -> CreateOptions.defaults(RaidLevel.RAID0, 2).withInternalBitmap(true));
        assertThrows(IllegalArgumentException.class,
                () -> CreateOptions.defaults(RaidLevel.RAID10, 2).withLayout(Raid10Layout.near(3).word()));
        assertThrows(IllegalArgumentException.class,
                () -> CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID1, 2), members(3, MEMBER_SECTORS)));
        assertThrows(IllegalArgumentException.class,
                () -> CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID1, 2), members(2, 2048)));
    }

    private static ArrayIdentity identity() {
        return new ArrayIdentity(MdUuid.parse("0123456789abcdef0123456789abcdef"),
                ArrayName.create(Optional.of("host"), "test"), MdTime.ofSeconds(1_700_000_000L));
    }
}

package io.jmd.md.format;

import static io.jmd.md.format.MdFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every member of the three kernel-made fixtures decodes, matches mdadm's examine, and re-encodes byte for byte. */
class Superblock1FixtureTest {

    static Stream<Arguments> members() {
        return Stream.of(RAID1_BITMAP, RAID5_LS, RAID10_N2)
                .flatMap(array -> java.util.stream.IntStream.range(0, memberCount(array))
                        .mapToObj(member -> Arguments.of(array, member)));
    }

    private static Superblock1 decode(String array, int member) throws SuperblockException {
        return Superblock1.decode(superblockBytes(array, member), SuperblockLocation.V1_2, MEMBER_SECTORS);
    }

    @ParameterizedTest(name = "{0} m{1}")
    @MethodSource("members")
    void decodesWithValuesMdadmPrints(String array, int member) throws SuperblockException {
        Superblock1 sb = decode(array, member);
        assertEquals(examineValue(array, "Array UUID"), sb.setUuid().format());
        assertEquals(examineValue(array, "Name"), sb.setName().text());
        assertEquals("fixture", sb.setName().homehost().orElseThrow());
        assertEquals("jmdfx", sb.setName().shortName());
        assertEquals(examineValue(array, "Raid Level"), sb.raidLevel().mdadmName());
        assertEquals(Integer.parseInt(examineValue(array, "Raid Devices")), sb.raidDisks());
        assertEquals(examineValue(array, "Data Offset"), sb.dataOffsetSectors() + " sectors");
        assertEquals(examineValue(array, "Super Offset"), sb.superOffsetSectors() + " sectors");
        assertTrue(examineValue(array, "Avail Dev Size").startsWith(sb.dataSizeSectors() + " sectors"));
        assertEquals(Long.parseLong(examineValue(array, "Events")), sb.events());
        assertEquals(examineValue(array, "Feature Map"), "0x" + Integer.toHexString(sb.featureMap()));
        assertEquals("clean", examineValue(array, "State"));
        assertTrue(sb.isClean());
        assertEquals(128, sb.maxDev());
        assertEquals(30720, sb.sizeSectors());
        assertEquals(16, sb.bblogOffsetSectors());
        assertEquals(8, sb.bblogSizeSectors());
        assertEquals(0, sb.bblogShift());
        assertEquals(Instant.parse("2026-11-21T05:42:27Z").getEpochSecond(), decode(RAID1_BITMAP, 0).ctime().seconds());
        if (member == 0) {
            assertEquals(examineValue(array, "Device UUID"), sb.deviceUuid().format());
            assertEquals(examineValue(array, "Checksum"), Integer.toHexString(sb.checksum()) + " - correct");
        }
    }

    @ParameterizedTest(name = "{0} m{1}")
    @MethodSource("members")
    void encodeIsByteIdenticalToDisk(String array, int member) throws SuperblockException {
        byte[] disk = superblockBytes(array, member);
        Superblock1 sb = decode(array, member);
        byte[] encoded = sb.encode();
        assertEquals(512, encoded.length, "256 + 2*128 bytes is exactly one sector");
        assertArrayEquals(Arrays.copyOf(disk, 512), encoded);
        assertEquals(sb, Superblock1.decode(encoded, SuperblockLocation.V1_2, MEMBER_SECTORS));
    }

    @ParameterizedTest(name = "{0} m{1}")
    @MethodSource("members")
    void recomputedChecksumEqualsStored(String array, int member) throws SuperblockException {
        byte[] disk = superblockBytes(array, member);
        int stored = ByteBuffer.wrap(disk).order(ByteOrder.LITTLE_ENDIAN).getInt(Superblock1Layout.OFF_SB_CSUM);
        assertEquals(stored, decode(array, member).checksum());
        assertEquals(stored, Superblock1Codec.checksum(ByteBuffer.wrap(disk), 128));
    }

    @ParameterizedTest(name = "{0} m{1}")
    @MethodSource("members")
    void rolesFollowTheKernel(String array, int member) throws SuperblockException {
        Superblock1 sb = decode(array, member);
        int slots = 0;
        for (int slot = 0; slot < sb.raidDisks(); slot++) {
            slots += sb.devRoles().count(slot);
        }
        assertEquals(sb.raidDisks(), slots, "each slot held exactly once");
        assertTrue(DevRole.isSlot(sb.role()));
        if (array.equals(RAID5_LS) && member == 2) {
            // mdadm built raid5 degraded and recovered onto a spare: dev_number 3 took slot 2.
            assertEquals(3, sb.devNumber());
            assertEquals(DevRole.SPARE, sb.devRoles().role(2));
            assertEquals(2, sb.role());
        } else {
            assertEquals(member, sb.devNumber());
            assertEquals(member, sb.role());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("arrays")
    void levelSpecificFields(String array) throws SuperblockException {
        Superblock1 sb = decode(array, 0);
        switch (array) {
            case RAID1_BITMAP -> {
                assertEquals(0, sb.chunkSectors());
                assertEquals(0, sb.layout());
                assertTrue(sb.hasFeature(FeatureBits.BITMAP_OFFSET));
                assertEquals(8, sb.bitmapOffsetSectors());
            }
            case RAID5_LS -> {
                assertEquals(128, sb.chunkSectors());
                assertEquals(Raid5Algorithm.LEFT_SYMMETRIC.layout(), sb.layout());
                assertFalse(sb.hasFeature(FeatureBits.BITMAP_OFFSET));
            }
            case RAID10_N2 -> {
                assertEquals(128, sb.chunkSectors());
                assertEquals(Raid10Layout.near(2), Raid10Layout.decode(sb.layout()).orElseThrow());
            }
            default -> fail(array);
        }
    }

    static Stream<String> arrays() {
        return Stream.of(RAID1_BITMAP, RAID5_LS, RAID10_N2);
    }
}

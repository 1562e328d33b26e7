package io.jmd.md.format;

import static io.jmd.md.format.MdFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import java.time.ZoneId;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** jmd's examine text equals mdadm 4.2's for member 0 of every fixture, line by line. */
class ExamineFormatterTest {

    static String examine(String array, int member) throws SuperblockException {
        byte[] head = head(array, member);
        Superblock1 sb = Superblock1.decode(Arrays.copyOfRange(head, 4096, 8192), SuperblockLocation.V1_2,
                MEMBER_SECTORS);
        Optional<BitmapSuperblock> bitmap = Optional.empty();
        if (sb.hasFeature(FeatureBits.BITMAP_OFFSET)) {
            int offset = (int) (sb.superOffsetSectors() + sb.bitmapOffsetSectors()) * 512;
            bitmap = Optional.of(BitmapSuperblock.decode(Arrays.copyOfRange(head, offset, offset + 256), sb.setUuid()));
        }
        return ExamineFormatter.utc().format("m" + member + ".img", sb, MEMBER_BYTES, bitmap);
    }

    static void assertSameLines(String expected, String actual) {
        String[] want = expected.split("\n", -1);
        String[] got = actual.split("\n", -1);
        for (int i = 0; i < Math.min(want.length, got.length); i++) {
            assertEquals(want[i], got[i], "line " + (i + 1));
        }
        assertEquals(want.length, got.length, "line count\n--- expected\n" + expected + "--- actual\n" + actual);
    }

    @ParameterizedTest
    @ValueSource(strings = {RAID1_BITMAP, RAID5_LS, RAID10_N2})
    void memberZeroMatchesMdadm(String array) throws SuperblockException {
        String expected = examineText(array);
        String actual = examine(array, 0);
        assertSameLines(expected, actual);
        assertEquals(expected, actual);
    }

    @Test
    void raid5MemberTwoHoldsSlotTwoFromDeviceThree() throws SuperblockException {
        String text = examine(RAID5_LS, 2);
        assertTrue(text.contains("   Device Role : Active device 2\n"), text);
        assertTrue(text.contains("   Array State : AAA ('A' == active"), text);
    }

    @Test
    void homehostAndZone() throws SuperblockException {
        byte[] bytes = superblockBytes(RAID5_LS, 0);
        Superblock1 sb = Superblock1.decode(bytes, SuperblockLocation.V1_2, MEMBER_SECTORS);
        String local = new ExamineFormatter(ZoneId.of("Europe/Paris"), Optional.of("fixture"))
                .format("m0.img", sb, MEMBER_BYTES, Optional.empty());
        assertTrue(local.contains("           Name : fixture:jmdfx  (local to host fixture)\n"), local);
        assertTrue(local.contains("  Creation Time : Sat Nov 21 06:42:37 2026\n"), local);
        String other = new ExamineFormatter(ZoneId.of("UTC"), Optional.of("fix"))
                .format("m0.img", sb, MEMBER_BYTES, Optional.empty());
        assertTrue(other.contains("           Name : fixture:jmdfx\n"), other);
    }

    @Test
    void zoneFollowsTz() {
        assertEquals(ZoneId.of("UTC"), ExamineFormatter.zoneFromEnvironment(Map.of()));
        assertEquals(ZoneId.of("Asia/Tokyo"), ExamineFormatter.zoneFromEnvironment(Map.of("TZ", ":Asia/Tokyo")));
        assertEquals(ZoneId.of("UTC"), ExamineFormatter.zoneFromEnvironment(Map.of("TZ", "Not/AZone")));
    }

    @Test
    void missingBitmapIsShownAsMdadmShowsIt() throws SuperblockException {
        byte[] head = head(RAID1_BITMAP, 0);
        Superblock1 sb = Superblock1.decode(Arrays.copyOfRange(head, 4096, 8192), SuperblockLocation.V1_2,
                MEMBER_SECTORS);
        String text = ExamineFormatter.utc().format("m0.img", sb, MEMBER_BYTES, Optional.empty());
        assertTrue(text.contains("    Feature Map : 0x0\n"), text);
        assertFalse(text.contains("Internal Bitmap"), text);
        assertTrue(text.contains("       Checksum : f2feb448 - expected f2feb447\n"), text);
    }

    @Test
    void dayOfMonthIsSpacePadded() {
        assertEquals("Sun Nov  1 00:00:00 2026",
                MdadmText.ctime(MdTime.ofSeconds(java.time.Instant.parse("2026-11-01T00:00:00Z").getEpochSecond()),
                        ZoneId.of("UTC")));
    }

    @Test
    void humanSize() {
        assertEquals("", MdadmText.humanSize(5000 * 1024 - 1));
        assertEquals(" (15.00 MiB 15.73 MB)", MdadmText.humanSize(15360 * 1024));
        assertEquals(" (30.00 MiB 31.46 MB)", MdadmText.humanSize(30720 * 1024));
        assertEquals(" (2.00 GiB 2.15 GB)", MdadmText.humanSize(2L << 30));
        assertEquals(" (1024.00 GiB 1099.51 GB)", MdadmText.humanSize(1L << 40));
        assertEquals(" (2.93 TiB 3.22 TB)", MdadmText.humanSize(6291191808L * 512));
    }
}

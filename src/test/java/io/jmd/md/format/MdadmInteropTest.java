package io.jmd.md.format;

import static org.junit.jupiter.api.Assertions.*;

import io.jmd.testutil.ExternalTool;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Members written by jmd are read by the real mdadm and blkid, and jmd's examine text equals
 * mdadm's. mdadm cannot create arrays on regular files (it wants block devices and the md driver),
 * so the comparison runs on images jmd made; the fixtures cover kernel-made ones.
 */
@Tag("interop")
class MdadmInteropTest {
    private static final long MIB = 1024 * 1024;
    private static final long GIB = 1024 * MIB;
    private static final Map<String, String> UTC = Map.of("TZ", "UTC");
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private static ArrayIdentity identity(String name, int seed) {
        byte[] uuid = new byte[16];
        for (int i = 0; i < uuid.length; i++) {
            uuid[i] = (byte) (0x11 * (i + 1) + seed);
        }
        return new ArrayIdentity(MdUuid.of(uuid), ArrayName.ofText(name), MdTime.ofSeconds(1_795_239_747L + seed));
    }

    private static String examineByMdadm(Path member) {
        return ExternalTool.run(UTC, TIMEOUT, "mdadm", "--examine", member.toString()).assertSuccess().stdout();
    }

    private static String examineByJmd(Path member, Superblock1 sb, long memberBytes, Optional<BitmapSuperblock> bitmap)
            throws IOException {
        Optional<String> homehost = Optional.of(Files.readString(Path.of("/proc/sys/kernel/hostname")).strip());
        return new ExamineFormatter(ZoneId.of("UTC"), homehost).format(member.toString(), sb, memberBytes, bitmap);
    }

    /** The raid1 image from the brief: every field mdadm and blkid should see. */
    @Test
    void raid1WithBitmapIsAcceptedByMdadmAndBlkid() throws IOException {
        long memberBytes = 32 * MIB;
        ArrayIdentity identity = identity("homehost:jmdtest", 0);
        MemberImages.Created created = MemberImages.create(dir, "r1",
                CreateOptions.defaults(RaidLevel.RAID1, 2).withInternalBitmap(true), memberBytes, identity);
        Path m0 = created.members().get(0);
        String mdadm = examineByMdadm(m0);
        assertTrue(mdadm.contains("     Raid Level : raid1\n"), mdadm);
        assertTrue(mdadm.contains("   Raid Devices : 2\n"), mdadm);
        assertTrue(mdadm.contains("           Name : homehost:jmdtest\n"), mdadm);
        assertTrue(mdadm.contains("     Array UUID : " + identity.setUuid().format() + "\n"), mdadm);
        assertTrue(mdadm.matches("(?s).*\n       Checksum : [0-9a-f]+ - correct\n.*"), mdadm);
        assertTrue(mdadm.contains("          State : clean\n"), mdadm);
        assertTrue(mdadm.contains("Internal Bitmap : 8 sectors from superblock\n"), mdadm);

        String blkid = ExternalTool.run("blkid", "-p", m0.toString()).assertSuccess().stdout();
        assertTrue(blkid.contains("TYPE=\"linux_raid_member\""), blkid);
        assertTrue(blkid.contains("UUID=\"" + dashed(identity.setUuid()) + "\""), blkid);
        assertTrue(blkid.contains("LABEL=\"homehost:jmdtest\""), blkid);

        Superblock1 sb = created.superblocks().get(0);
        BitmapSuperblock bitmap = created.geometry().bitmapSuperblock(identity.setUuid());
        assertSameLines(mdadm, examineByJmd(m0, sb, memberBytes, Optional.of(bitmap)));
    }

    /** blkid prints the array UUID as a standard dashed UUID. */
    private static String dashed(MdUuid uuid) {
        String hex = uuid.format().replace(":", "");
        return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
                + hex.substring(16, 20) + "-" + hex.substring(20);
    }

    @Test
    void bitmapCutOutIsParsedByMdadmX() throws IOException {
        long memberBytes = 32 * MIB;
        ArrayIdentity identity = identity("homehost:jmdtest", 1);
        MemberImages.Created created = MemberImages.create(dir, "bm",
                CreateOptions.defaults(RaidLevel.RAID1, 2).withInternalBitmap(true), memberBytes, identity);
        Superblock1 sb = created.superblocks().get(0);
        BitmapSuperblock bitmap = created.geometry().bitmapSuperblock(identity.setUuid());
        Path cut = dir.resolve("bitmap.bin");
        ByteBuffer area = ByteBuffer.allocate((int) bitmap.areaBytes(4096));
        try (FileChannel in = FileChannel.open(created.members().get(0))) {
            in.read(area, MemberImages.bitmapStartBytes(sb));
        }
        Files.write(cut, area.array());
        String x = ExternalTool.run(UTC, TIMEOUT, "mdadm", "-X", cut.toString()).stdout();
        assertTrue(x.contains("           Magic : 6d746962\n"), x);
        assertTrue(x.contains("         Version : 4\n"), x);
        assertTrue(x.contains("            UUID : " + identity.setUuid().format() + "\n"), x);
        assertTrue(x.contains("       Chunksize : 64 MB\n"), x);
        long syncKib = bitmap.syncSizeSectors() / 2;
        assertTrue(x.contains("       Sync Size : " + syncKib + " (31.00 MiB 32.51 MB)\n"), x);
        assertTrue(x.contains("          Bitmap : 1 bits (chunks), 0 dirty (0.0%)"), x);
        // And jmd reads back what mdadm just read.
        try {
            assertEquals(bitmap, BitmapSuperblock.decode(java.util.Arrays.copyOf(area.array(), 256), sb.setUuid()));
        } catch (SuperblockException e) {
            fail(e);
        }
    }

    static Stream<Arguments> arrays() {
        return Stream.of(
                Arguments.of("raid1", CreateOptions.defaults(RaidLevel.RAID1, 2).withInternalBitmap(true), 32 * MIB),
                Arguments.of("raid5", CreateOptions.defaults(RaidLevel.RAID5, 3), 32 * MIB),
                Arguments.of("raid10", CreateOptions.defaults(RaidLevel.RAID10, 4).withChunkKib(64), 32 * MIB),
                Arguments.of("raid10-f2", CreateOptions.defaults(RaidLevel.RAID10, 3)
                        .withLayout(Raid10Layout.far(2).word()), 48 * MIB),
                Arguments.of("raid10-o2", CreateOptions.defaults(RaidLevel.RAID10, 2)
                        .withLayout(Raid10Layout.offset(2).word()), 48 * MIB),
                Arguments.of("raid6-big", CreateOptions.defaults(RaidLevel.RAID6, 4).withInternalBitmap(true), 3000 * GIB),
                Arguments.of("raid4", CreateOptions.defaults(RaidLevel.RAID4, 3).withChunkKib(128), 100 * MIB),
                Arguments.of("raid0", CreateOptions.defaults(RaidLevel.RAID0, 2), 20 * MIB),
                Arguments.of("linear", CreateOptions.defaults(RaidLevel.LINEAR, 2), 20 * MIB),
                Arguments.of("raid1-v1.0", CreateOptions.defaults(RaidLevel.RAID1, 2)
                        .withLocation(SuperblockLocation.V1_0).withInternalBitmap(true), 300 * GIB),
                Arguments.of("raid5-v1.1", CreateOptions.defaults(RaidLevel.RAID5, 3)
                        .withLocation(SuperblockLocation.V1_1), 10 * GIB + 12345 * 512L));
    }

    /** For every member of every array, jmd's examine text is mdadm's, line for line. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("arrays")
    void examineAgreesWithMdadm(String name, CreateOptions options, long memberBytes) throws IOException {
        ArrayIdentity identity = identity("homehost:" + name, name.length());
        MemberImages.Created created = MemberImages.create(dir, name, options, memberBytes, identity);
        Optional<BitmapSuperblock> bitmap = created.geometry().hasBitmap()
                ? Optional.of(created.geometry().bitmapSuperblock(identity.setUuid()))
                : Optional.empty();
        for (int dev = 0; dev < created.members().size(); dev++) {
            Path member = created.members().get(dev);
            String mdadm = examineByMdadm(member);
            assertTrue(mdadm.contains(" - correct\n"), mdadm);
            assertSameLines(mdadm, examineByJmd(member, created.superblocks().get(dev), memberBytes, bitmap));
        }
    }

    static void assertSameLines(String expected, String actual) {
        ExamineFormatterTest.assertSameLines(expected, actual);
    }
}

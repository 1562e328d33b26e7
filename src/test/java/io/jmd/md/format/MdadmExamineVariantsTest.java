package io.jmd.md.format;

import static org.junit.jupiter.api.Assertions.*;

import io.jmd.testutil.ExternalTool;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.ZoneId;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The less common examine lines (recovery, replacement, reshape, flags, bad blocks, degraded and
 * inconsistent role tables, raid6 layouts) agree with mdadm's: each case edits one member's
 * superblock, writes it, and compares jmd's text with mdadm --examine.
 */
@Tag("interop")
class MdadmExamineVariantsTest {
    private static final long MEMBER_BYTES = 64L * 1024 * 1024;

    @TempDir
    Path dir;

    static Stream<Arguments> variants() {
        return Stream.of(
                variant("active", b -> b.resyncOffsetSectors(0)),
                variant("recovering", b -> b.addFeature(FeatureBits.RECOVERY_OFFSET).recoveryOffsetSectors(1234)),
                variant("degraded", b -> b.role(2, DevRole.SPARE)),
                variant("faulty-self", b -> b.role(0, DevRole.FAULTY)),
                variant("journal-self", b -> b.role(0, DevRole.JOURNAL)),
                variant("replacement", b -> b.addFeature(FeatureBits.REPLACEMENT | FeatureBits.RECOVERY_OFFSET)
                        .role(4, 0).devNumber(4).recoveryOffsetSectors(64)),
                variant("flags", b -> b.devFlags(Superblock1Layout.DEVFLAG_WRITE_MOSTLY | Superblock1Layout.DEVFLAG_FAIL_FAST)),
                variant("bad-blocks", b -> b.addFeature(FeatureBits.BAD_BLOCKS)),
                variant("no-bblog", b -> b.bblogOffsetSectors(0).bblogSizeSectors(0)),
                variant("shrinking-reshape", b -> b.addFeature(FeatureBits.RESHAPE_ACTIVE).raidDisks(3).deltaDisks(-1)
                        .newLevel(6).newLayout(Raid5Algorithm.LEFT_SYMMETRIC_6.layout()).newChunkSectors(256)
                        .reshapePositionSectors(20_000_000)),
                variant("new-offset", b -> b.addFeature(FeatureBits.RESHAPE_ACTIVE | FeatureBits.NEW_OFFSET)
                        .newOffsetSectors(-1024).newLevel(5).newLayout(2).newChunkSectors(1024)
                        .reshapePositionSectors(4096)),
                variant("inconsistent", b -> b.role(9, 7)),
                variant("duplicate-slot", b -> b.role(9, 1)),
                variant("right-asymmetric", b -> b.layout(Raid5Algorithm.RIGHT_ASYMMETRIC.layout())),
                variant("parity-last", b -> b.layout(Raid5Algorithm.PARITY_N.layout())),
                variant("raid6-ls6", b -> b.level(6).layout(Raid5Algorithm.LEFT_SYMMETRIC_6.layout())),
                variant("raid6-ddf", b -> b.level(6).layout(Raid5Algorithm.ROTATING_N_CONTINUE.layout())),
                variant("raid4", b -> b.level(4).layout(0)),
                variant("raid10-n2f2", b -> b.level(10).layout(0x202)),
                variant("raid10-o2", b -> b.level(10).layout(Raid10Layout.offset(2).word())),
                variant("used-dev-size", b -> b.sizeSectors(100_000)),
                variant("name-with-host", b -> b.setName(ArrayName.ofText("vm:local-name"))),
                variant("long-name", b -> b.setName(ArrayName.ofText("x".repeat(32)))));
    }

    private static Arguments variant(String name, UnaryOperator<Superblock1Builder> change) {
        return Arguments.of(name, change);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void examineAgreesWithMdadm(String name, UnaryOperator<Superblock1Builder> change) throws IOException {
        ArrayIdentity identity = new ArrayIdentity(MdUuid.parse("a1a2a3a4:b1b2b3b4:c1c2c3c4:d1d2d3d4"),
                ArrayName.ofText("homehost:" + name), MdTime.ofSeconds(1_795_000_000L));
        CreateGeometry geometry = CreateGeometry.compute(CreateOptions.defaults(RaidLevel.RAID5, 4),
                MEMBER_BYTES / 512, MEMBER_BYTES / 512, MEMBER_BYTES / 512, MEMBER_BYTES / 512);
        Superblock1 base = geometry.memberSuperblock(0, identity, MdUuid.parse("0f0e0d0c0b0a09080706050403020100"));
        Superblock1 sb = change.apply(base.toBuilder()).utime(MdTime.ofSeconds(1_795_000_123L)).events(77).build();
        Path member = dir.resolve(name + ".img");
        try (FileChannel channel = FileChannel.open(member, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(1), MEMBER_BYTES - 1);
            channel.write(ByteBuffer.wrap(sb.encode()), 4096);
        }
        String mdadm = ExternalTool.run(Map.of("TZ", "UTC"), Duration.ofSeconds(60), "mdadm", "--examine",
                member.toString()).assertSuccess().stdout();
        String hostname = java.nio.file.Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        String jmd = new ExamineFormatter(ZoneId.of("UTC"), Optional.of(hostname))
                .format(member.toString(), sb, MEMBER_BYTES, Optional.empty());
        ExamineFormatterTest.assertSameLines(mdadm, jmd);
    }
}

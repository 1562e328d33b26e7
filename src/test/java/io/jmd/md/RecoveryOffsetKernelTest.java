package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.block.FileBlockDevice;
import io.jmd.block.SyncIo;
import io.jmd.kernel.KernelVm;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.FeatureBits;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.format.Superblock1;
import io.jmd.md.resync.SyncEngine;
import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import static io.jmd.md.RedundancyTest.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The recovery_offset jmd writes is one the kernel can trust: jmd rebuilds part of a raid5 spare
 * and stops (frozen after a checkpoint, then the array closed); in a VM the real md driver
 * assembles the members with the half-rebuilt spare, takes its recovery_offset (it resumes there,
 * rebuilding only above it), finishes, and a check scrub finds no mismatch and the array reads
 * back what jmd wrote. A recovery_offset past what jmd had written to the spare would leave
 * stale blocks below it that the kernel never rebuilds: the check counts them.
 */
@Tag("interop")
@Tag("kernel")
final class RecoveryOffsetKernelTest {
    static final long MEMBER_BYTES = 32L << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    @TempDir
    Path dir;

    private BlockDevice open(Env env, String name) throws Exception {
        return FileBlockDevice.open(env, FileBlockDevice.Options.of(dir.resolve(name)));
    }

    @Test
    void aRaid5RecoveryStoppedByJmdResumesInTheKernelAtItsRecoveryOffsetAndChecksClean() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3"};
        for (String n : new String[] {"d0", "d1", "d2", "d3", "e"}) {
            try (RandomAccessFile f = new RandomAccessFile(dir.resolve(n).toFile(), "rw")) {
                f.setLength(MEMBER_BYTES);
            }
        }
        List<BlockDevice> devs = new ArrayList<>();
        for (String n : names) {
            devs.add(open(env, n));
        }
        try {
            Creator.create(env, devs, new Creator.Request(CreateOptions.defaults(RaidLevel.RAID5, names.length).withChunkKib(64),
                Optional.of("test"), "r5", 0, false, true, false));
        } finally {
            devs.forEach(BlockDevice::close);
        }
        List<String> paths = java.util.Arrays.stream(names).map(n -> dir.resolve(n).toString()).toList();
        String md5;
        long offset;
        io.jmd.block.DeviceOpener opener = (n, ro) -> FileBlockDevice.open(env, FileBlockDevice.Options.of(Path.of(n)));
        try (MdArray a = Assembler.assemble(env, opener, paths, new Assembler.Options(false, false))) {
            a.redundancy().setOpener(opener);
            md5 = fillWithPattern(env, a);
            MemberManager.fail(a, paths.get(1));
            MemberManager.remove(a, paths.get(1));
            SyncEngine engine = a.redundancy().engine();
            engine.throttle().setLimits(1, 2_000);
            String spare = dir.resolve("e").toString();
            assertTrue(MemberManager.add(a, spare, false).startsWith("added"));
            Member e = MemberManager.find(a, spare);
            await("a recovery checkpoint", () -> e.recoveryOffsetBytes() >= 2L << 20);
            engine.setFrozen(true);
            await("the recovery stopped", () -> !engine.isRunning());
            offset = e.recoveryOffsetBytes();
            assertTrue(offset < MEMBER_BYTES / 2, "stopped early enough for the kernel to have work: " + offset);
        }
        try (BlockDevice e = open(env, "e")) {
            Superblock1 sb = SuperblockIo.read(env, e).superblock();
            assertTrue(sb.hasFeature(FeatureBits.RECOVERY_OFFSET), "e records how far it was rebuilt");
            assertEquals(offset / 512, sb.recoveryOffsetSectors());
        }

        String guest = String.join("\n",
            "echo 1 > /proc/sys/dev/raid/speed_limit_min",
            "echo 1000 > /proc/sys/dev/raid/speed_limit_max",
            "mdadm --assemble /dev/md0 $(disk d0) $(disk e) $(disk d2) $(disk d3) || exit 1",
            "echo \"##### CASE resume\"",
            "cat /proc/mdstat",
            "echo \"@ recovery_start=$(cat /sys/block/md0/md/dev-$(basename $(disk e))/recovery_start)\"",
            "echo 200000 > /proc/sys/dev/raid/speed_limit_min",
            "echo 2000000 > /proc/sys/dev/raid/speed_limit_max",
            "md_wait md0 300",
            "echo \"@ degraded=$(cat /sys/block/md0/md/degraded)\"",
            "echo \"@ mismatch=$(md_check md0)\"",
            "echo \"@ md5=$(md5sum /dev/md0 | cut -d' ' -f1)\"",
            "echo \"##### END resume\"",
            "mdadm --stop /dev/md0",
            "");
        List<KernelVm.Drive> drives = new ArrayList<>();
        for (String n : new String[] {"d0", "e", "d2", "d3"}) {
            drives.add(KernelVm.Drive.rw(dir.resolve(n), n));
        }
        KernelVm vm = KernelVm.prepare(KernelVm.Kernel.NEWEST);
        KernelVm.Result r = vm.run(guest, drives, KernelVm.timeoutFor(drives.size()).plusSeconds(120));
        KernelVm.Section s = KernelVm.section(r, null, "resume");
        System.out.println(vm.kernelRelease() + " resuming jmd's recovery at " + offset / 512 + " sectors:\n" + s.text());
        long start = Long.parseLong(s.value("recovery_start").trim());
        assertTrue(start >= offset / 512, "the kernel resumed at jmd's recovery_offset or later, not from 0: " + start);
        assertEquals("0", s.value("degraded").trim(), s.text());
        assertEquals("0", s.value("mismatch").trim(), "the part jmd recorded as rebuilt is consistent: " + s.text());
        assertEquals(md5, s.value("md5").trim(), "the array holds what jmd wrote");
    }

    /** Writes every block with a pattern of its own; returns the md5 of the array's content. */
    private static String fillWithPattern(Env env, MdArray a) throws Exception {
        MessageDigest md = MessageDigest.getInstance("MD5");
        int chunk = 1 << 20;
        Buffer buf = env.buffers().allocate(chunk);
        try {
            for (long at = 0; at < a.sizeBytes(); at += chunk) {
                long len = Math.min(chunk, a.sizeBytes() - at);
                for (long o = 0; o < len; o += 8) {
                    buf.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, o, (at + o) * 0x9E3779B97F4A7C15L ^ 0x5eed);
                }
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), a, at, buf.segment().asSlice(0, len), 0));
                md.update(buf.segment().asSlice(0, len).toArray(ValueLayout.JAVA_BYTE));
            }
            assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), a));
        } finally {
            buf.release();
        }
        return HexFormat.of().formatHex(md.digest());
    }
}

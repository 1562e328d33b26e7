package io.jmd.block;

import io.jmd.Env;
import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.jmd.block.BlockTests.assertReads;
import static io.jmd.block.BlockTests.assertReadsZero;
import static io.jmd.block.BlockTests.op;
import static io.jmd.block.BlockTests.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A raw block device member: a loop device over a sparse file (needs root and losetup; skipped
 * otherwise). Checks the ioctl paths: size (BLKGETSIZE64), BLKDISCARD, BLKZEROOUT, and that a
 * block device reports everything as data.
 */
class BlockDeviceFileTest {
    private static final long MIB = 1 << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(64 * MIB);

    private Path dir;
    private Path backing;
    private String loop;

    @BeforeEach
    void attach() throws IOException {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "loop devices need root");
        Assumptions.assumeTrue(ExternalTool.find("losetup").isPresent(), "losetup not installed");
        dir = BlockTests.scratchDir(BlockTests.targetDir(), "loop-");
        backing = dir.resolve("backing");
        FileBlockDevice.open(jmd.env(), FileBlockDevice.Options.of(backing).create(16 * MIB)).close();
        ExternalTool.Result r = ExternalTool.run("losetup", "--find", "--show", backing.toString());
        Assumptions.assumeTrue(r.exitCode() == 0, "losetup refused: " + r.stderr());
        loop = r.stdout().trim();
    }

    @AfterEach
    void detach() throws IOException {
        if (loop != null) {
            ExternalTool.run("losetup", "-d", loop).assertSuccess();
        }
        BlockTests.deleteTree(dir);
    }

    @Test
    void loop_device_member() throws IOException {
        Env env = jmd.env();
        try (FileBlockDevice dev = FileBlockDevice.open(env, FileBlockDevice.Options.of(Path.of(loop)).direct(true))) {
            assertTrue(dev.isBlockDevice());
            assertEquals(16 * MIB, dev.sizeBytes(), "BLKGETSIZE64");
            System.out.println("O_DIRECT on " + loop + ": " + dev.isDirect());
            write(env, dev, 0, 4 * MIB, 1, Bio.FUA);
            write(env, dev, 8 * MIB + 512, 1024, 2, 0); // unaligned: buffered channel
            assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), dev));
            assertReads(env, dev, 0, 4 * MIB, 1);
            assertReads(env, dev, 8 * MIB + 512, 1024, 2);
            assertTrue(BlockTests.allData(dev, 0, 16 * MIB), "a block device reports data, never a guess");

            long before = BlockTests.allocatedBytes(backing);
            assertEquals(Errno.OK, op(env, dev, Bio.Op.DISCARD, 0, MIB, 0));
            assertEquals(Errno.OK, op(env, dev, Bio.Op.WRITE_ZEROES, MIB, MIB, 0));
            assertEquals(Errno.OK, op(env, dev, Bio.Op.WRITE_ZEROES, 2 * MIB, MIB, Bio.NO_UNMAP));
            assertReadsZero(env, dev, MIB, 2 * MIB);
            assertReads(env, dev, 3 * MIB, MIB, 1);
            assertTrue(dev.supportsDiscard(), "loop devices take discards (queue/discard_max_bytes > 0)");
            assertTrue(BlockTests.allocatedBytes(backing) < before, "BLKDISCARD on a loop device punches the backing file");
        }
        assertTrue(Files.exists(Path.of(loop)));
    }
}

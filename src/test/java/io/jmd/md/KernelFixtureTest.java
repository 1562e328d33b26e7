package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Errno;
import io.jmd.block.FileBlockDevice;
import io.jmd.block.SyncIo;
import io.jmd.cli.Main;
import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import io.jmd.testutil.JmdProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.XZInputStream;

import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Arrays the real Linux md driver made (src/test/resources/fixtures/md): jmd reads what Linux wrote.
 */
final class KernelFixtureTest {
    /** From the fixtures' README: SHA-256 of the pattern in the first 8 MiB of each array. */
    static final String PATTERN_SHA256 = "541ff019c82d5585b335cd683270b577acbb04b51c73d66fba515967c6da32f0";
    static final int PATTERN_BYTES = 8 << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(128L << 20);

    @TempDir
    Path dir;

    static Path unpack(String array, String member, Path dir) throws Exception {
        Path out = dir.resolve(member + ".img");
        try (InputStream in = new XZInputStream(KernelFixtureTest.class.getResourceAsStream(
            "/fixtures/md/" + array + "/" + member + ".img.xz"))) {
            Files.copy(in, out);
        }
        return out;
    }

    @Test
    void examineAgreesWithMdadmOnEveryFixture() throws Exception {
        for (String array : List.of("raid1-bitmap", "raid5-ls", "raid10-n2")) {
            Path sub = Files.createDirectories(dir.resolve(array));
            unpack(array, "m0", sub);
            String expected = new String(KernelFixtureTest.class.getResourceAsStream(
                "/fixtures/md/" + array + "/examine-m0.txt").readAllBytes());
            String got = JmdProcess.run(sub, "examine", "m0.img").assertSuccess().stdout();
            assertEquals(expected, got, array);
        }
    }

    @Test
    void assemblesTheKernelsRaid1AndReadsThePattern() throws Exception {
        Env env = jmd.env();
        Path m0 = unpack("raid1-bitmap", "m0", dir);
        Path m1 = unpack("raid1-bitmap", "m1", dir);
        for (boolean readOnly : new boolean[] {true, false}) {
            try (MdArray array = Assembler.assemble(env, (n, ro) -> FileBlockDevice.open(env,
                    FileBlockDevice.Options.of(Path.of(n)).readOnly(ro)), List.of(m0.toString(), m1.toString()),
                new Assembler.Options(false, readOnly))) {
                assertEquals(15L << 20, array.sizeBytes());
                assertTrue(array.personality().isOptimal());
                assertEquals(PATTERN_SHA256, sha256Of(env, array));
                checkPatternBlocks(env, array);
            }
        }
        // the array jmd closed is still one mdadm knows, and both members agree on it
        assertEquals(0, Main.run("examine", m0.toString()));
    }

    @Test
    void readsThePatternFromEitherMemberAlone() throws Exception {
        Env env = jmd.env();
        Path m0 = unpack("raid1-bitmap", "m0", dir);
        Path m1 = unpack("raid1-bitmap", "m1", dir);
        for (Path only : List.of(m0, m1)) {
            try (MdArray array = Assembler.assemble(env, (n, ro) -> FileBlockDevice.open(env,
                FileBlockDevice.Options.of(Path.of(n)).readOnly(ro)), List.of(only.toString()), new Assembler.Options(true, true))) {
                assertEquals(PATTERN_SHA256, sha256Of(env, array));
            }
        }
    }

    static String sha256Of(Env env, MdArray array) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Buffer buf = env.buffers().allocate(1 << 20);
        try {
            for (long off = 0; off < PATTERN_BYTES; off += 1 << 20) {
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), array, off, buf.segment()));
                md.update(buf.segment().asByteBuffer());
            }
        } finally {
            buf.release();
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Block i = u64le(i) ‖ u64le(0x6a6d642d66697874 ^ i), repeated. */
    static void checkPatternBlocks(Env env, MdArray array) {
        Buffer buf = env.buffers().allocate(4096);
        try {
            for (long i = 0; i < PATTERN_BYTES / 4096; i += 97) {
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), array, i * 4096, buf.segment()));
                assertEquals(i, buf.segment().get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 4080));
                assertEquals(0x6a6d642d66697874L ^ i,
                    buf.segment().get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 4088));
            }
        } finally {
            buf.release();
        }
    }
}

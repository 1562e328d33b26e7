package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.FileBlockDevice;
import io.jmd.md.stripe.StripeEngine;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel-made raid5 (left-symmetric) and raid10 (n2) fixtures read back through jmd: the
 * pattern the kernel wrote must come out byte for byte (its SHA-256), from the whole array and
 * with any member missing (raid5 rebuilds it from parity, raid10 reads the other copy); and the
 * parity the kernel computed must be what jmd computes (md's check: mismatch_cnt 0).
 */
final class LevelFixtureTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    @TempDir
    Path dir;

    List<String> unpack(String array, int members) throws Exception {
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            paths.add(KernelFixtureTest.unpack(array, "m" + i, dir).toString());
        }
        return paths;
    }

    MdArray assemble(Env env, List<String> paths, boolean run, boolean readOnly) throws MdException {
        return Assembler.assemble(env, (n, ro) -> FileBlockDevice.open(env, FileBlockDevice.Options.of(Path.of(n)).readOnly(ro)),
            paths, new Assembler.Options(run, readOnly));
    }

    @Test
    void raid5LeftSymmetricReadsThePatternAndItsParityChecks() throws Exception {
        Env env = jmd.env();
        List<String> paths = unpack("raid5-ls", 3);
        try (MdArray array = assemble(env, paths, false, true)) {
            assertEquals("raid5", array.personality().levelName());
            assertEquals(30L << 20, array.sizeBytes());
            assertEquals(KernelFixtureTest.PATTERN_SHA256, KernelFixtureTest.sha256Of(env, array));
            KernelFixtureTest.checkPatternBlocks(env, array);
            assertEquals(0, ((StripeEngine) array.personality()).checkParity(), "the kernel's parity is jmd's parity");
        }
    }

    @Test
    void raid5RebuildsAnyMissingMemberFromParity() throws Exception {
        Env env = jmd.env();
        List<String> paths = unpack("raid5-ls", 3);
        for (int missing = 0; missing < 3; missing++) {
            List<String> present = new ArrayList<>(paths);
            present.remove(missing);
            try (MdArray array = assemble(env, present, true, true)) {
                assertFalse(array.personality().isOptimal());
                assertEquals(KernelFixtureTest.PATTERN_SHA256, KernelFixtureTest.sha256Of(env, array), "without m" + missing);
                KernelFixtureTest.checkPatternBlocks(env, array);
            }
        }
    }

    @Test
    void raid10NearTwoReadsThePatternWithAnyMemberMissing() throws Exception {
        Env env = jmd.env();
        List<String> paths = unpack("raid10-n2", 4);
        try (MdArray array = assemble(env, paths, false, true)) {
            assertEquals("raid10", array.personality().levelName());
            assertEquals(30L << 20, array.sizeBytes());
            assertEquals(KernelFixtureTest.PATTERN_SHA256, KernelFixtureTest.sha256Of(env, array));
        }
        for (int missing = 0; missing < 4; missing++) {
            List<String> present = new ArrayList<>(paths);
            present.remove(missing);
            try (MdArray array = assemble(env, present, true, true)) {
                assertEquals(KernelFixtureTest.PATTERN_SHA256, KernelFixtureTest.sha256Of(env, array), "without m" + missing);
            }
        }
        // m0 and m1 hold the two copies of every even chunk: without both, data is gone
        MdException lost = org.junit.jupiter.api.Assertions.assertThrows(MdException.class,
            () -> assemble(env, List.of(paths.get(2), paths.get(3)), true, true).close());
        assertTrue(lost.getMessage().contains("cannot run"), lost.getMessage());
    }

    @Test
    void writableAssemblyOfTheKernelsArraysKeepsTheirContent() throws Exception {
        Env env = jmd.env();
        for (String fixture : List.of("raid5-ls", "raid10-n2")) {
            Path sub = dir.resolve(fixture);
            java.nio.file.Files.createDirectories(sub);
            List<String> paths = new ArrayList<>();
            for (int i = 0; i < (fixture.equals("raid5-ls") ? 3 : 4); i++) {
                paths.add(KernelFixtureTest.unpack(fixture, "m" + i, sub).toString());
            }
            try (MdArray array = assemble(env, paths, false, false)) {
                assertEquals(KernelFixtureTest.PATTERN_SHA256, KernelFixtureTest.sha256Of(env, array), fixture);
            }
            try (MdArray again = assemble(env, paths, false, true)) {
                assertTrue(again.isClean(), fixture + " stopped clean");
                assertEquals(KernelFixtureTest.PATTERN_SHA256, KernelFixtureTest.sha256Of(env, again), fixture);
            }
        }
    }
}

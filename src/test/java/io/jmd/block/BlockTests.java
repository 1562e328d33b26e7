package io.jmd.block;

import io.jmd.Env;
import io.jmd.mem.Buffer;
import io.jmd.testutil.ExternalTool;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Helpers shared by the device tests: data patterns, sync I/O, extents, scratch directories. */
final class BlockTests {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private BlockTests() {
    }

    /** One allocation extent as reported by blockStatus. */
    record Extent(long offsetBytes, long lengthBytes, boolean hole, boolean zero) {
    }

    /** The 8 bytes a pattern puts at device offset {@code offsetBytes} (a multiple of 8). */
    static long word(long seed, long offsetBytes) {
        long z = seed * 0x9E3779B97F4A7C15L + offsetBytes;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) | 1; // never zero, so a pattern is never mistaken for a hole
    }

    /** Fills {@code seg} with the pattern that belongs at device offset {@code deviceOffsetBytes}. */
    static void fill(MemorySegment seg, long seed, long deviceOffsetBytes) {
        for (long i = 0; i < seg.byteSize(); i += 8) {
            seg.set(LONG, i, word(seed, deviceOffsetBytes + i));
        }
    }

    static void assertPattern(MemorySegment seg, long seed, long deviceOffsetBytes) {
        for (long i = 0; i < seg.byteSize(); i += 8) {
            long want = word(seed, deviceOffsetBytes + i);
            long got = seg.get(LONG, i);
            if (got != want) {
                fail("pattern " + seed + " differs at device offset " + (deviceOffsetBytes + i) + ": got "
                    + Long.toHexString(got) + ", want " + Long.toHexString(want));
            }
        }
    }

    static void assertZero(MemorySegment seg, long deviceOffsetBytes) {
        long at = seg.mismatch(MemorySegment.ofArray(new byte[(int) seg.byteSize()]));
        if (at >= 0) {
            fail("expected zeroes, non-zero byte at device offset " + (deviceOffsetBytes + at));
        }
    }

    /** A buffer from the Env's cache holding the pattern for {@code deviceOffsetBytes}. */
    static Buffer patternBuffer(Env env, long bytes, long seed, long deviceOffsetBytes) {
        Buffer b = env.buffers().allocate(bytes);
        fill(b.segment(), seed, deviceOffsetBytes);
        return b;
    }

    static void write(Env env, BlockDevice dev, long offsetBytes, long bytes, long seed, int flags) {
        Buffer b = patternBuffer(env, bytes, seed, offsetBytes);
        try {
            assertEquals(Errno.OK, SyncIo.write(env.scheduler(), dev, offsetBytes, b.segment(), flags),
                "write " + offsetBytes + "+" + bytes);
        } finally {
            b.release();
        }
    }

    static void assertReads(Env env, BlockDevice dev, long offsetBytes, long bytes, long seed) {
        Buffer b = env.buffers().allocate(bytes);
        try {
            assertEquals(Errno.OK, SyncIo.read(env.scheduler(), dev, offsetBytes, b.segment()));
            assertPattern(b.segment(), seed, offsetBytes);
        } finally {
            b.release();
        }
    }

    static void assertReadsZero(Env env, BlockDevice dev, long offsetBytes, long bytes) {
        Buffer b = env.buffers().allocate(bytes);
        try {
            b.segment().fill((byte) 0x5a); // so that a read that does nothing fails
            assertEquals(Errno.OK, SyncIo.read(env.scheduler(), dev, offsetBytes, b.segment()));
            assertZero(b.segment(), offsetBytes);
        } finally {
            b.release();
        }
    }

    static int op(Env env, BlockDevice dev, Bio.Op op, long offsetBytes, long lengthBytes, int flags) {
        return SyncIo.submitAndWait(env.scheduler(), dev, op, offsetBytes, null, lengthBytes, flags);
    }

    static List<Extent> extents(BlockDevice dev, long offsetBytes, long lengthBytes) {
        List<Extent> out = new ArrayList<>();
        dev.blockStatus(offsetBytes, lengthBytes, (o, l, h, z) -> out.add(new Extent(o, l, h, z)));
        long at = offsetBytes;
        for (Extent e : out) {
            assertEquals(at, e.offsetBytes(), "extents must tile the range: " + out);
            at += e.lengthBytes();
        }
        assertEquals(offsetBytes + lengthBytes, at, "extents must cover the range: " + out);
        return out;
    }

    /** Whether every byte of {@code offsetBytes + lengthBytes} is reported a hole. */
    static boolean allHole(BlockDevice dev, long offsetBytes, long lengthBytes) {
        return extents(dev, offsetBytes, lengthBytes).stream().allMatch(e -> e.hole() && e.zero());
    }

    static boolean allData(BlockDevice dev, long offsetBytes, long lengthBytes) {
        return extents(dev, offsetBytes, lengthBytes).stream().noneMatch(Extent::hole);
    }

    /** Bytes the file system has allocated to the file (stat's 512-byte block count). */
    static long allocatedBytes(Path file) {
        String out = ExternalTool.run("stat", "-c", "%b", file.toString()).assertSuccess().stdout().trim();
        return Long.parseLong(out) * 512;
    }

    /** A fresh directory under target/ (or under {@code parent} when given). */
    static Path scratchDir(Path parent, String prefix) throws IOException {
        Files.createDirectories(parent);
        return Files.createTempDirectory(parent, prefix);
    }

    static Path targetDir() {
        String project = System.getProperty("jmd.project.dir", ".");
        return Path.of(project, "target", "block-tests");
    }

    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

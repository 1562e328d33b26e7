package io.jmd.block;

import io.jmd.Env;
import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static io.jmd.block.BlockTests.allData;
import static io.jmd.block.BlockTests.allHole;
import static io.jmd.block.BlockTests.allocatedBytes;
import static io.jmd.block.BlockTests.assertReads;
import static io.jmd.block.BlockTests.assertReadsZero;
import static io.jmd.block.BlockTests.op;
import static io.jmd.block.BlockTests.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FileBlockDevice on ext4 (target/), buffered and O_DIRECT: data, sparseness, discard, zeroes, EOF. */
class FileBlockDeviceTest {
    private static final long MIB = 1 << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256 * MIB);

    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        dir = BlockTests.scratchDir(BlockTests.targetDir(), "file-");
    }

    @AfterEach
    void removeDir() throws IOException {
        BlockTests.deleteTree(dir);
    }

    private FileBlockDevice create(String name, long sizeBytes, boolean direct) throws DeviceOpenException {
        return FileBlockDevice.open(jmd.env(), FileBlockDevice.Options.of(dir.resolve(name)).create(sizeBytes).direct(direct));
    }

    /**
     * A batch longer than the queue depth (and than one worker run) ends every bio with its data
     * in place: the batch takes the slots it can, sends what it holds, and waits only then.
     */
    @Test
    void submitBatchLongerThanTheQueueDepthEndsEveryBio() throws Exception {
        Env env = jmd.env();
        int n = 3 * FileBlockDevice.BATCH_MAX + 5;
        try (FileBlockDevice dev = FileBlockDevice.open(env,
                FileBlockDevice.Options.of(dir.resolve("batch")).create(MIB).queueDepth(4))) {
            byte[][] data = new byte[n][];
            java.util.List<Bio> bios = new java.util.ArrayList<>();
            java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(n);
            java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
            for (int i = 0; i < n; i++) {
                data[i] = new byte[8192];
                new java.util.SplittableRandom(i).nextBytes(data[i]);
                bios.add(Bio.write(i * 8192L, MemorySegment.ofArray(data[i]), 0, null, bio -> {
                    if (bio.status() != Errno.OK) {
                        failed.incrementAndGet();
                    }
                    ended.countDown();
                }));
            }
            dev.submitBatch(bios);
            assertTrue(ended.await(30, java.util.concurrent.TimeUnit.SECONDS), "batch did not end");
            assertEquals(0, failed.get());
            for (int i = 0; i < n; i++) {
                byte[] back = new byte[8192];
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), dev, i * 8192L, MemorySegment.ofArray(back)));
                org.junit.jupiter.api.Assertions.assertArrayEquals(data[i], back, "bio " + i);
            }
            assertEquals(0, dev.inFlight());
        }
    }

    /**
     * Adjacent plain writes of a batch go down as one gathering write each run; a gap, a FUA write,
     * a heap buffer or a read ends a run. Every bio ends OK with its bytes in place.
     */
    @Test
    void adjacentWritesOfABatchAreGathered() throws Exception {
        Env env = jmd.env();
        int page = 8192;
        try (FileBlockDevice dev = create("gather", MIB, false);
             java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            // offsets in pages; 'f' = FUA, 'h' = heap buffer, 'r' = read
            String[] plan = {"0", "1", "2", "3", "10", "11f", "12", "13", "14h", "15", "16r", "17", "18"};
            java.util.List<Bio> bios = new java.util.ArrayList<>();
            java.util.Map<Integer, byte[]> written = new java.util.HashMap<>();
            java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(plan.length);
            java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
            BioCallback done = bio -> {
                if (bio.status() != Errno.OK) {
                    failed.incrementAndGet();
                }
                ended.countDown();
            };
            for (String step : plan) {
                int at = Integer.parseInt(step.replaceAll("[a-z]", ""));
                if (step.endsWith("r")) {
                    bios.add(Bio.read(at * (long) page, arena.allocate(page, 4096), null, done));
                    continue;
                }
                byte[] bytes = new byte[page];
                new java.util.SplittableRandom(at).nextBytes(bytes);
                written.put(at, bytes);
                MemorySegment data = step.endsWith("h") ? MemorySegment.ofArray(bytes)
                    : arena.allocate(page, 4096).copyFrom(MemorySegment.ofArray(bytes));
                bios.add(Bio.write(at * (long) page, data, step.endsWith("f") ? Bio.FUA : 0, null, done));
            }
            dev.submitBatch(bios);
            assertTrue(ended.await(30, java.util.concurrent.TimeUnit.SECONDS), "batch did not end");
            assertEquals(0, failed.get());
            // runs: 0-3 gathered; 10 alone (11 is FUA); 11 alone; 12-13 gathered (14 is heap);
            // 14 alone; 15 alone (16 is a read); 17-18 gathered
            assertEquals(3, dev.gatheredWrites());
            for (var e : written.entrySet()) {
                byte[] back = new byte[page];
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), dev, e.getKey() * (long) page, MemorySegment.ofArray(back)));
                org.junit.jupiter.api.Assertions.assertArrayEquals(e.getValue(), back, "page " + e.getKey());
            }
            assertEquals(0, dev.inFlight());
        }
    }

    /** Writes and reads a few shapes of bio, flushes, reopens and reads again. */
    private void roundTrip(Path file, boolean direct, long sizeBytes) throws IOException {
        Env env = jmd.env();
        FileBlockDevice.Options options = FileBlockDevice.Options.of(file).create(sizeBytes).direct(direct);
        try (FileBlockDevice dev = FileBlockDevice.open(env, options)) {
            assertEquals(sizeBytes, dev.sizeBytes());
            assertFalse(dev.isBlockDevice());
            write(env, dev, 0, 4096, 1, 0);
            write(env, dev, 64 * 1024, MIB, 2, 0);
            write(env, dev, sizeBytes - 8192, 8192, 3, Bio.FUA);
            assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), dev));
            assertReads(env, dev, 0, 4096, 1);
            assertReads(env, dev, 64 * 1024, MIB, 2);
            assertReads(env, dev, sizeBytes - 8192, 8192, 3);
            assertReadsZero(env, dev, 4096, 60 * 1024);
        }
        try (FileBlockDevice dev = FileBlockDevice.open(env, FileBlockDevice.Options.of(file).direct(direct))) {
            assertReads(env, dev, 64 * 1024, MIB, 2);
            assertReads(env, dev, sizeBytes - 8192, 8192, 3);
        }
        assertEquals(sizeBytes, Files.size(file));
    }

    @Test
    void buffered_round_trip_on_target() throws IOException {
        roundTrip(dir.resolve("m0"), false, 16 * MIB);
    }

    /** ext4 (what target/ is on here) allows O_DIRECT; the data must be right either way. */
    @Test
    void direct_round_trip_on_target() throws IOException {
        Path file = dir.resolve("m0");
        roundTrip(file, true, 16 * MIB);
        try (FileBlockDevice dev = FileBlockDevice.open(jmd.env(), FileBlockDevice.Options.of(file).direct(true))) {
            System.out.println("O_DIRECT on " + Files.getFileStore(file).type() + " (" + dir + "): " + dev.isDirect()
                + (dev.isDirect() ? "" : ", " + dev.directFallbackReason()));
            assertEquals(dev.isDirect(), dev.directFallbackReason() == null);
            if (dev.isDirect()) {
                assertEquals(0, dev.unalignedBios(), "BufferCache bios are aligned: all took the direct path");
            }
        }
    }

    /** tmpfs refused O_DIRECT before Linux 6.6 and allows it since; either way the data is right. */
    @Test
    void round_trip_on_tmpfs() throws IOException {
        Path shm = Path.of("/dev/shm");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no /dev/shm");
        Path tmp = BlockTests.scratchDir(shm, "jmd-block-");
        try {
            roundTrip(tmp.resolve("m0"), true, 8 * MIB);
            try (FileBlockDevice dev = FileBlockDevice.open(jmd.env(), FileBlockDevice.Options.of(tmp.resolve("m0")).direct(true))) {
                System.out.println("O_DIRECT on " + Files.getFileStore(tmp).type() + ": " + dev.isDirect()
                    + (dev.isDirect() ? "" : ", " + dev.directFallbackReason()));
            }
        } finally {
            BlockTests.deleteTree(tmp);
        }
    }

    /** The fallback itself, forced through the opener seam (no file system here refuses O_DIRECT). */
    @Test
    void direct_refused_falls_back_to_buffered() throws IOException {
        Env env = jmd.env();
        FileOpener.ChannelOpener refusing = (path, options) -> {
            if (options.contains(com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
                throw new IOException("Invalid argument");
            }
            return FileChannel.open(path, options);
        };
        FileBlockDevice.Options o = FileBlockDevice.Options.of(dir.resolve("m0")).create(4 * MIB).direct(true);
        try (FileBlockDevice dev = FileBlockDevice.open(env, o, refusing)) {
            assertFalse(dev.isDirect());
            assertNotNull(dev.directFallbackReason());
            assertTrue(dev.directFallbackReason().contains("Invalid argument"), dev.directFallbackReason());
            write(env, dev, 512, 1536, 7, 0); // unaligned is fine on a buffered device
            assertReads(env, dev, 512, 1536, 7);
            assertEquals(0, dev.unalignedBios());
        }
    }

    /** Unaligned bios on a direct device go through the buffered channel and stay coherent. */
    @Test
    void unaligned_bios_on_direct_device() throws IOException {
        Env env = jmd.env();
        try (FileBlockDevice dev = create("m0", 4 * MIB, true)) {
            org.junit.jupiter.api.Assumptions.assumeTrue(dev.isDirect(), "file system refuses O_DIRECT");
            write(env, dev, 0, 64 * 1024, 1, 0); // direct
            write(env, dev, 4096 + 512, 1024, 2, 0); // unaligned offset and length: buffered
            Buffer b = env.buffers().allocate(8192);
            try {
                // A buffer address 512 bytes into an aligned buffer: unaligned address, aligned offset/length.
                MemorySegment odd = b.slice(512, 4096);
                BlockTests.fill(odd, 3, 16384);
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), dev, 16384, odd, 0));
            } finally {
                b.release();
            }
            assertEquals(2, dev.unalignedBios());
            // Read back through the direct path: sees what the buffered path wrote.
            Buffer r = env.buffers().allocate(64 * 1024);
            try {
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), dev, 0, r.segment()));
                BlockTests.assertPattern(r.segment().asSlice(0, 4096 + 512), 1, 0);
                BlockTests.assertPattern(r.segment().asSlice(4096 + 512, 1024), 2, 4096 + 512);
                BlockTests.assertPattern(r.segment().asSlice(4096 + 1536, 16384 - 4096 - 1536), 1, 4096 + 1536);
                BlockTests.assertPattern(r.segment().asSlice(16384, 4096), 3, 16384);
                BlockTests.assertPattern(r.segment().asSlice(20480, 65536 - 20480), 1, 20480);
            } finally {
                r.release();
            }
        }
    }

    /** A heap segment (not from the BufferCache) works on both kinds of device. */
    @Test
    void heap_segments_work() throws IOException {
        Env env = jmd.env();
        for (boolean direct : new boolean[] {false, true}) {
            try (FileBlockDevice dev = create("heap-" + direct, MIB, direct)) {
                MemorySegment heap = MemorySegment.ofArray(new byte[8192]);
                BlockTests.fill(heap, 9, 8192);
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), dev, 8192, heap, 0));
                MemorySegment back = MemorySegment.ofArray(new byte[8192]);
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), dev, 8192, back));
                BlockTests.assertPattern(back, 9, 8192);
            }
        }
    }

    @Test
    void new_member_is_sparse_and_reads_zero() throws IOException {
        Env env = jmd.env();
        long size = 64 * MIB;
        try (FileBlockDevice dev = create("m0", size, false)) {
            assertEquals(0, allocatedBytes(dir.resolve("m0")), "a new member allocates nothing");
            assertReadsZero(env, dev, 0, MIB);
            assertReadsZero(env, dev, size - MIB, MIB);
            assertEquals(java.util.List.of(new BlockTests.Extent(0, size, true, true)), BlockTests.extents(dev, 0, size));
            write(env, dev, 8 * MIB, 4096, 1, 0);
            assertTrue(allHole(dev, 0, 8 * MIB));
            assertTrue(allData(dev, 8 * MIB, 4096));
            assertTrue(allHole(dev, 8 * MIB + 4096, size - 8 * MIB - 4096));
            // A range that starts inside data and ends inside a hole is split exactly.
            var ext = BlockTests.extents(dev, 8 * MIB - 8192, 16384);
            assertEquals(3, ext.size(), ext.toString());
        }
    }

    @Test
    void discard_punches_holes() throws IOException {
        Env env = jmd.env();
        Path file = dir.resolve("m0");
        try (FileBlockDevice dev = create("m0", 8 * MIB, false)) {
            assertTrue(dev.supportsDiscard());
            write(env, dev, 0, 4 * MIB, 1, 0);
            assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), dev));
            long before = allocatedBytes(file);
            assertTrue(before >= 4 * MIB, "written data is allocated: " + before);
            assertTrue(allData(dev, 0, 4 * MIB));

            assertEquals(Errno.OK, op(env, dev, Bio.Op.DISCARD, MIB, 2 * MIB, 0));
            long after = allocatedBytes(file);
            assertEquals(before - 2 * MIB, after, "the discarded 2 MiB are given back");
            assertTrue(allData(dev, 0, MIB));
            assertTrue(allHole(dev, MIB, 2 * MIB));
            assertTrue(allData(dev, 3 * MIB, MIB));
            assertReadsZero(env, dev, MIB, 2 * MIB);
            assertReads(env, dev, 0, MIB, 1);
            assertReads(env, dev, 3 * MIB, MIB, 1);
            assertEquals(8 * MIB, Files.size(file), "a hole keeps the size");
        }
    }

    @Test
    void write_zeroes_unmaps_unless_told_not_to() throws IOException {
        Env env = jmd.env();
        Path file = dir.resolve("m0");
        try (FileBlockDevice dev = create("m0", 8 * MIB, false)) {
            write(env, dev, 0, 4 * MIB, 1, 0);
            assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), dev));
            long before = allocatedBytes(file);

            assertEquals(Errno.OK, op(env, dev, Bio.Op.WRITE_ZEROES, 0, MIB, 0));
            assertReadsZero(env, dev, 0, MIB);
            assertTrue(allHole(dev, 0, MIB));
            assertEquals(before - MIB, allocatedBytes(file));

            assertEquals(Errno.OK, op(env, dev, Bio.Op.WRITE_ZEROES, 2 * MIB, MIB, Bio.NO_UNMAP | Bio.FUA));
            assertReadsZero(env, dev, 2 * MIB, MIB);
            assertReads(env, dev, MIB, MIB, 1);
            assertReads(env, dev, 3 * MIB, MIB, 1);
            assertEquals(before - MIB, allocatedBytes(file), "NO_UNMAP keeps the range allocated");

            // NO_UNMAP over a hole allocates it.
            assertEquals(Errno.OK, op(env, dev, Bio.Op.WRITE_ZEROES, 6 * MIB, MIB, Bio.NO_UNMAP));
            assertReadsZero(env, dev, 6 * MIB, MIB);
            assertEquals(before, allocatedBytes(file));
        }
    }

    @Test
    void flush_and_fua_succeed_on_both_paths() throws IOException {
        Env env = jmd.env();
        for (boolean direct : new boolean[] {false, true}) {
            try (FileBlockDevice dev = create("f-" + direct, 2 * MIB, direct)) {
                write(env, dev, 0, 64 * 1024, 4, Bio.FUA);
                assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), dev));
                assertReads(env, dev, 0, 64 * 1024, 4);
            }
        }
    }

    /** A file truncated under the device: reads past its end inside the device return zeroes. */
    @Test
    void read_past_eof_inside_device_returns_zeroes() throws IOException {
        Env env = jmd.env();
        Path file = dir.resolve("m0");
        for (boolean direct : new boolean[] {false, true}) {
            try (FileBlockDevice dev = FileBlockDevice.open(env, FileBlockDevice.Options.of(file).create(MIB).direct(direct))) {
                write(env, dev, 0, MIB, 5, 0);
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.truncate(256 * 1024 + 1000); // mid-block, so a direct read ends short and unaligned
                }
                Buffer b = env.buffers().allocate(512 * 1024);
                try {
                    assertEquals(Errno.OK, SyncIo.read(env.scheduler(), dev, 0, b.segment()));
                    BlockTests.assertPattern(b.segment().asSlice(0, 256 * 1024), 5, 0);
                    BlockTests.assertZero(b.segment().asSlice(256 * 1024 + 1000), 256 * 1024 + 1000);
                } finally {
                    b.release();
                }
                assertReadsZero(env, dev, 768 * 1024, 256 * 1024);
                assertTrue(allHole(dev, 512 * 1024, 512 * 1024), "past EOF is a hole");
            }
            Files.delete(file);
        }
    }

    @Test
    void read_only_device_refuses_writes() throws IOException {
        Env env = jmd.env();
        Path file = dir.resolve("m0");
        try (FileBlockDevice dev = create("m0", MIB, false)) {
            write(env, dev, 0, 4096, 6, 0);
        }
        try (FileBlockDevice dev = FileBlockDevice.open(env, FileBlockDevice.Options.of(file).readOnly(true))) {
            assertTrue(dev.isReadOnly());
            assertFalse(dev.supportsDiscard());
            assertReads(env, dev, 0, 4096, 6);
            Buffer b = BlockTests.patternBuffer(env, 4096, 7, 0);
            try {
                assertEquals(Errno.EROFS, SyncIo.write(env.scheduler(), dev, 0, b.segment(), 0));
            } finally {
                b.release();
            }
            assertEquals(Errno.EROFS, op(env, dev, Bio.Op.DISCARD, 0, 4096, 0));
            assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), dev));
            assertReads(env, dev, 0, 4096, 6);
        }
    }

    @Test
    void bio_past_the_end_is_a_programmer_error() throws IOException {
        Env env = jmd.env();
        try (FileBlockDevice dev = create("m0", MIB, false)) {
            MemorySegment seg = MemorySegment.ofArray(new byte[4096]);
            AssertionError e = assertThrows(AssertionError.class,
                () -> dev.submit(Bio.read(MIB - 512, seg, null, b -> { })));
            assertTrue(e.getMessage().contains("past the end"), e.getMessage());
            assertEquals(0, dev.inFlight(), "a refused bio takes no slot");
        }
    }

    @Test
    void io_errors_map_to_errno() {
        assertEquals(Errno.ENOSPC, FileBlockDevice.errnoOf(new IOException("No space left on device")));
        assertEquals(Errno.ENOSPC, FileBlockDevice.errnoOf(new Posix.PosixException("fallocate", "x", Posix.ENOSPC)));
        assertEquals(Errno.EIO, FileBlockDevice.errnoOf(new IOException("Input/output error")));
        assertEquals(Errno.EIO, FileBlockDevice.errnoOf(new java.nio.channels.ClosedChannelException()));
        assertEquals(Errno.EIO, FileBlockDevice.errnoOf(new Posix.PosixException("fallocate", "x", Errno.EIO)));
    }

    @Test
    void size_rounds_down_to_sectors_and_tiny_files_are_refused() throws IOException {
        Path odd = dir.resolve("odd");
        Files.write(odd, new byte[4096 + 700]);
        try (FileBlockDevice dev = FileBlockDevice.open(jmd.env(), odd)) {
            assertEquals(4096 + 512, dev.sizeBytes());
        }
        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[100]);
        DeviceOpenException e = assertThrows(DeviceOpenException.class, () -> FileBlockDevice.open(jmd.env(), tiny));
        assertTrue(e.getMessage().contains("smaller than one 512-byte sector"), e.getMessage());
    }
}

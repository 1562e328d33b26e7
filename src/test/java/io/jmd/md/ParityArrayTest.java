package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.DevRole;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.Superblock1Layout;
import io.jmd.md.stripe.StripeEngine;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RAID4/5/6 specifics: which of read-modify-write and reconstruct-write a write takes, the
 * stripe cache resized under load, a tiny memory budget, resync of a dirty array and of a new one
 * over old content, the dirty degraded refusal, and a write that loses a member acknowledged only
 * once the failure is on disk.
 */
final class ParityArrayTest {
    static final long MIB = 1 << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    /** Counts member reads (bios and bytes) on top of a test disk. */
    static final class CountingDevice extends Disks.KeepOpen {
        static final ConcurrentHashMap<String, AtomicLong> READ_BYTES = new ConcurrentHashMap<>();

        CountingDevice(BlockDevice next) {
            super(next);
        }

        @Override
        public void submit(Bio bio) {
            if (bio.op == Bio.Op.READ) {
                READ_BYTES.computeIfAbsent(name(), k -> new AtomicLong()).addAndGet(bio.lengthBytes);
            }
            super.submit(bio);
        }

        static long total() {
            return READ_BYTES.values().stream().mapToLong(AtomicLong::get).sum();
        }
    }

    MdArray assembleCounting(Env env, Disks disks, String... names) throws MdException {
        return Assembler.assemble(env, (n, ro) -> new CountingDevice(disks.opener().open(n, ro)), List.of(names),
            Assembler.Options.DEFAULT);
    }

    static byte[] random(int bytes, long seed) {
        byte[] b = new byte[bytes];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    static void write(Env env, BlockDevice array, long at, byte[] data) {
        assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, at, MemorySegment.ofArray(data), 0));
    }

    static byte[] read(Env env, BlockDevice array, long at, int len) {
        byte[] b = new byte[len];
        assertEquals(Errno.OK, SyncIo.read(env.scheduler(), array, at, MemorySegment.ofArray(b)));
        return b;
    }

    @Test
    void writesTakeWhicheverOfRmwAndRcwReadsLess() throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(5);
        try (Disks disks = new Disks(env)) {
            disks.add(4 * MIB, names);
            // 5 members, 4K chunks: a stripe is one page per member, 4 data pages + P per 16K row
            ArrayModel.create(env, disks, CreateOptions.defaults(RaidLevel.RAID5, 5).withChunkKib(4), names);
            try (MdArray array = assembleCounting(env, disks, names)) {
                StripeEngine se = (StripeEngine) array.personality();
                long row = 16 << 10;
                // one data page of a cold stripe: rmw reads old data + P (2 pages), rcw the 3 others
                expectPlan(env, array, se, 10 * row, 4096, true, 2 * 4096);
                // three of four: rmw would read 3 + P, rcw the one left
                expectPlan(env, array, se, 20 * row, 3 * 4096, false, 4096);
                // two of four: rmw 2 + P against rcw's other 2
                expectPlan(env, array, se, 30 * row, 2 * 4096, false, 2 * 4096);
                // a full stripe reads nothing
                expectPlan(env, array, se, 40 * row, 4 * 4096, false, 0);
                // the first write's stripe is cached now (its D0 and P): writing D0 again reads nothing
                expectPlan(env, array, se, 10 * row, 4096, true, 0);
                // D1 of that stripe: rmw needs only old D1 (P is cached), rcw D2 and D3
                expectPlan(env, array, se, 10 * row + 4096, 4096, true, 4096);
                // a sector inside a page: the page must be read before it is merged (rmw: D and P)
                expectPlan(env, array, se, 50 * row + 512, 512, true, 2 * 4096);
                assertEquals(0, se.checkParity());
            }
        }
    }

    private static void expectPlan(Env env, MdArray array, StripeEngine se, long at, int len, boolean rmw, long readBytes) {
        long[] before = se.writePlanCounts();
        long readBefore = CountingDevice.total();
        byte[] data = random(len, at);
        write(env, array, at, data);
        long[] after = se.writePlanCounts();
        assertEquals(rmw ? 1 : 0, after[0] - before[0], "rmw at " + at);
        assertEquals(rmw ? 0 : 1, after[1] - before[1], "rcw at " + at);
        assertEquals(readBytes, CountingDevice.total() - readBefore, "member bytes read for the write at " + at);
        assertArrayEquals(data, read(env, array, at, len));
    }

    @Test
    void stripeCacheResizesWhileRequestsRun() throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(4);
        try (Disks disks = new Disks(env)) {
            disks.add(8 * MIB, names);
            ArrayModel.create(env, disks, CreateOptions.defaults(RaidLevel.RAID6, 4).withChunkKib(64), names);
            try (MdArray array = disks.assemble(false, names)) {
                StripeEngine se = (StripeEngine) array.personality();
                assertEquals(256, se.stripeCacheSize(), "md's default stripe_cache_size");
                ArrayModel model = new ArrayModel(array.sizeBytes());
                AtomicBoolean done = new AtomicBoolean();
                List<Integer> sizes = new ArrayList<>();
                Thread resizer = Thread.ofPlatform().start(() -> {
                    int[] steps = {8, 300, 4, 64, 512, 17, 256};
                    for (int i = 0; !done.get(); i = (i + 1) % steps.length) {
                        sizes.add(se.setStripeCacheSize(steps[i]));
                        Thread.onSpinWait();
                        try {
                            Thread.sleep(3);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                try {
                    model.randomIo(env, array, 4, 80, 192 << 10, 11);
                } finally {
                    done.set(true);
                    resizer.join();
                }
                assertTrue(sizes.size() > 3, "resized " + sizes.size() + " times under load");
                model.verify(env, array);
                assertEquals(4, se.setStripeCacheSize(4));
                assertEquals(4, se.stripeCacheSize(), "idle: every stripe above the target retired");
                model.verify(env, array);
                assertEquals(100, se.setStripeCacheSize(100));
                assertEquals(100, se.stripeCacheSize());
                assertThrows(IllegalArgumentException.class, () -> se.setStripeCacheSize(40000));
                assertEquals(0, se.checkParity());
            }
        }
    }

    @Test
    void aTinyMemoryBudgetStillServesEveryRequest() throws Exception {
        // 4 MiB: a quarter holds 4 stripes of 4 x 64 KiB, the least jmd runs with
        Env env = Env.forTests(4 * MIB);
        try {
            String[] names = LevelRoundTripTest.names(4);
            try (Disks disks = new Disks(env)) {
                disks.add(8 * MIB, names);
                ArrayModel.create(env, disks, CreateOptions.defaults(RaidLevel.RAID5, 4).withChunkKib(64), names);
                try (MdArray array = disks.assemble(false, names)) {
                    StripeEngine se = (StripeEngine) array.personality();
                    assertEquals(4, se.stripeCacheSize());
                    assertEquals(4, se.setStripeCacheSize(256), "the budget caps a resize");
                    ArrayModel model = new ArrayModel(array.sizeBytes());
                    model.randomIo(env, array, 8, 40, 256 << 10, 12);
                    model.verify(env, array);
                    disks.faults("d2").failDevice();
                    model.randomIo(env, array, 8, 30, 256 << 10, 13);
                    model.verify(env, array);
                    disks.faults("d2").restoreDevice();
                }
            }
            try (Disks disks = new Disks(env)) {
                ArrayModel.create(env, disks, CreateOptions.defaults(RaidLevel.RAID10, 4).withChunkKib(64),
                    disks.add(8 * MIB, "r0", "r1", "r2", "r3").toArray(String[]::new));
                try (MdArray array = disks.assemble(false, "r0", "r1", "r2", "r3")) {
                    ArrayModel model = new ArrayModel(array.sizeBytes());
                    model.randomIo(env, array, 8, 40, 512 << 10, 16);
                    model.verify(env, array);
                }
            }
            try (Disks disks = new Disks(env)) {
                String[] wide = LevelRoundTripTest.names(12);
                disks.add(4 * MIB, wide);
                ArrayModel.create(env, disks, CreateOptions.defaults(RaidLevel.RAID6, 12).withChunkKib(64), wide);
                MdException small = assertThrows(MdException.class, () -> disks.assemble(false, wide));
                assertTrue(small.getMessage().contains("too small for the"), small.getMessage());
                assertTrue(small.getMessage().contains("stripe cache"), small.getMessage());
            }
        } finally {
            env.close();
        }
        JmdEnvExtension.check(env);
    }

    @Test
    void dirtyArrayGetsItsParityRecomputedAtAssembly() throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(5);
        try (Disks disks = new Disks(env)) {
            disks.add(6 * MIB, names);
            ArrayModel.create(env, disks, CreateOptions.defaults(RaidLevel.RAID6, 5).withChunkKib(64), names);
            ArrayModel model;
            try (MdArray array = disks.assemble(false, names)) {
                model = new ArrayModel(array.sizeBytes());
                model.randomIo(env, array, 2, 50, 128 << 10, 14);
            }
            long dataOffset = SuperblockIo.read(env, disks.opener().open("d0", true)).superblock().dataOffsetSectors() * 512;
            // a crash between data and parity writes: parity wrong on two members, superblocks dirty
            write(env, disks.medium("d3"), dataOffset + (1 << 20), random(256 << 10, 1));
            write(env, disks.medium("d4"), dataOffset + (2 << 20), random(128 << 10, 2));
            markDirty(env, disks, names);
            try (MdArray array = disks.assemble(false, names)) {
                assertTrue(array.notes().stream().anyMatch(n -> n.contains("resyncing while serving")), array.notes().toString());
                RedundancyTest.awaitIdle(array);
                assertTrue(array.redundancy().engine().lastFinished().mismatchSectors() > 0, "the resync found the torn parity");
                assertEquals(0, ((StripeEngine) array.personality()).checkParity());
            }
        }
    }

    @Test
    void newArrayOverOldContentIsResyncedBeforeItIsClean() throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(4);
        try (Disks disks = new Disks(env)) {
            disks.add(4 * MIB, names);
            for (int i = 0; i < names.length; i++) {
                write(env, disks.medium(names[i]), 0, random(4 << 20, 100 + i));
            }
            List<BlockDevice> devs = new ArrayList<>();
            for (String n : names) {
                devs.add(disks.opener().open(n, false));
            }
            Creator.Result r = Creator.create(env, devs, new Creator.Request(CreateOptions.defaults(RaidLevel.RAID5, 4)
                .withChunkKib(16), Optional.of("test"), "junk", 0, false, false, true));
            assertTrue(r.needsResync());
            try (MdArray array = disks.assemble(false, names)) {
                assertTrue(array.notes().stream().anyMatch(n -> n.contains("resyncing while serving")), array.notes().toString());
                RedundancyTest.awaitIdle(array);
                assertTrue(!array.needsResync(), "resynced online after the first assembly");
                assertEquals(0, ((StripeEngine) array.personality()).checkParity());
            }
        }
    }

    @Test
    void dirtyDegradedArrayStartsOnlyWhenForced() throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(4);
        try (Disks disks = new Disks(env)) {
            disks.add(4 * MIB, names);
            ArrayModel.create(env, disks, CreateOptions.defaults(RaidLevel.RAID5, 4).withChunkKib(64), names);
            ArrayModel model;
            try (MdArray array = disks.assemble(false, names)) {
                model = new ArrayModel(array.sizeBytes());
                model.randomIo(env, array, 2, 30, 128 << 10, 15);
            }
            markDirty(env, disks, names);
            String[] three = {"d0", "d1", "d3"};
            MdException refused = assertThrows(MdException.class, () -> disks.assemble(true, three));
            assertTrue(refused.getMessage().contains("cannot start dirty degraded array"), refused.getMessage());
            assertTrue(refused.getMessage().contains("--force"), refused.getMessage());
            try (MdArray forced = Assembler.assemble(env, disks.opener(), List.of(three), new Assembler.Options(true, false, true))) {
                assertTrue(forced.notes().stream().anyMatch(n -> n.contains("data corruption possible")), forced.notes().toString());
                model.verify(env, forced); // this crash left the parity right, so the data is too
            }
            Superblock1 after = SuperblockIo.read(env, disks.opener().open("d0", true)).superblock();
            assertEquals(Superblock1Layout.MAX_SECTOR, after.resyncOffsetSectors(), "marked clean");
        }
    }

    @Test
    void writeThatLostAMemberIsAcknowledgedOnlyAfterTheFailureIsOnDisk() throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(4);
        try (Disks disks = new Disks(env)) {
            disks.add(4 * MIB, names);
            ArrayModel.create(env, disks, CreateOptions.defaults(RaidLevel.RAID5, 4).withChunkKib(64), names);
            try (MdArray array = disks.assemble(false, names)) {
                write(env, array, 0, random(4096, 3)); // dirty already: the only superblock write left is the failure's
                disks.holdFrom = 4096;
                disks.holdTo = 8192;
                disks.holdNanos = 300_000_000L; // superblock writes land late
                disks.faults("d1").failDevice();
                // a full row: every member is written, d1 fails
                write(env, array, 3 * 192 << 10, random(192 << 10, 4));
                Superblock1 onD0 = SuperblockIo.read(env, disks.medium("d0")).superblock();
                assertEquals(DevRole.FAULTY, onD0.devRoles().role(1), "acknowledged before d1's failure was recorded");
                disks.holdNanos = 0;
                assertTrue(!array.personality().isOptimal());
            }
        }
    }

    static void markDirty(Env env, Disks disks, String... names) throws Exception {
        for (String n : names) {
            var dev = disks.opener().open(n, false);
            SuperblockIo.Found f = SuperblockIo.read(env, dev);
            assertEquals(0, SuperblockIo.write(env, dev, f.superblock().withResyncOffsetSectors(0), f.location()));
        }
    }
}

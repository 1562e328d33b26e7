package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.block.FaultRule;
import io.jmd.block.SyncIo;
import io.jmd.md.bitmap.WriteIntentBitmap;
import io.jmd.md.format.BitmapLayout;
import io.jmd.md.format.BitmapSuperblock;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.DevRole;
import io.jmd.md.format.FeatureBits;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.Superblock1Layout;
import io.jmd.md.resync.SyncAction;
import io.jmd.md.resync.SyncStatus;
import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static io.jmd.md.Raid1ArrayTest.BLOCK;
import static io.jmd.md.Raid1ArrayTest.verify;
import static io.jmd.md.Raid1ArrayTest.writeStream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The redundancy machinery on injected storage: the write-intent bitmap on disk, online resync
 * after a crash (only dirty chunks), recovery onto a spare, re-add, check/repair, a failed sync
 * start, read-error repair, and recovery checkpoints.
 */
final class RedundancyTest {
    static final long DISK_BYTES = 16L << 20;
    static final int BITMAP_CHUNK = 64 << 10;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    static Creator.Result create(Env env, Disks disks, boolean bitmap, String... names) throws Exception {
        List<BlockDevice> devs = new ArrayList<>();
        for (String n : names) {
            devs.add(disks.opener().open(n, false));
        }
        try {
            CreateOptions o = CreateOptions.defaults(RaidLevel.RAID1, names.length).withInternalBitmap(bitmap);
            if (bitmap) {
                o = o.withBitmapChunkBytes(BITMAP_CHUNK);
            }
            return Creator.create(env, devs, new Creator.Request(o, Optional.of("test"), "r1", 0, false, true, false));
        } finally {
            devs.forEach(BlockDevice::close);
        }
    }

    static MdArray assemble(Disks disks, boolean run, String... names) throws MdException {
        MdArray a = disks.assemble(run, names);
        a.redundancy().setOpener(disks.opener());
        if (a.redundancy().bitmap() != null) {
            a.redundancy().bitmap().setDaemonSleepNanos(50_000_000L);
        }
        a.redundancy().engine().throttle().setLimits(1_000, 10_000_000);
        return a;
    }

    static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    static void awaitIdle(MdArray a) throws InterruptedException {
        await("sync idle on " + a.name(), () -> a.redundancy().engine().isIdle()
            && !MemberManager.hasRecoveryWork(a) && !a.needsResync());
    }

    static Superblock1 sbOf(Env env, Disks disks, String n) throws Exception {
        return SuperblockIo.read(env, disks.medium(n)).superblock();
    }

    static BitmapSuperblock bitmapHeader(Env env, Disks disks, String n) throws Exception {
        Superblock1 sb = sbOf(env, disks, n);
        long at = sb.superOffsetSectors() * 512 + (long) sb.bitmapOffsetSectors() * 512;
        return BitmapSuperblock.decode(disks.raw(n, at, 512), sb.setUuid());
    }

    static boolean diskBit(Env env, Disks disks, String n, int chunk) throws Exception {
        Superblock1 sb = sbOf(env, disks, n);
        long area = sb.superOffsetSectors() * 512 + (long) sb.bitmapOffsetSectors() * 512;
        byte[] bits = disks.raw(n, area, 4096);
        return (bits[(int) BitmapLayout.bitByteOffset(chunk)] & BitmapLayout.bitMask(chunk)) != 0;
    }

    static void write(Env env, MdArray a, long offset, int len, int value) {
        Buffer b = env.buffers().allocate(len);
        try {
            b.segment().fill((byte) value);
            assertEquals(Errno.OK, SyncIo.write(env.scheduler(), a, offset, b.segment(), 0));
        } finally {
            b.release();
        }
    }

    /**
     * The block at member bytes {@code firstAt} of {@code first} and {@code secondAt} of
     * {@code second} made to differ (0x11, 0x22), as after a crash: not resynced, every member of
     * {@code names} needing a full resync. The next read of the first copy (the resync window's)
     * is slowed 1.5 s: its data arrives, its end does not. Returns that rule; its hits() say when
     * the window has read.
     */
    static FaultRule divergeWithASlowResyncRead(Env env, Disks disks, String first, long firstAt, String second, long secondAt,
                                                String... names) throws Exception {
        rawWrite(env, disks, first, firstAt, BLOCK, 0x11);
        rawWrite(env, disks, second, secondAt, BLOCK, 0x22);
        disks.markNeedsFullResync(names);
        FaultRule slow = FaultRule.delay(firstAt, BLOCK, 1_500_000_000L, Bio.Op.READ).times(1);
        disks.faults(first).addRule(slow);
        return slow;
    }

    static void rawWrite(Env env, Disks disks, String n, long offset, int len, int value) {
        Buffer b = env.buffers().allocate(len);
        try {
            b.segment().fill((byte) value);
            assertEquals(Errno.OK, SyncIo.write(env.scheduler(), disks.medium(n), offset, b.segment(), 0));
        } finally {
            b.release();
        }
    }

    /** Copies disk {@code from} to a new disk {@code to}, raw: a power cut's image of it. */
    static void snapshot(Env env, Disks disks, String from, String to) {
        disks.add(DISK_BYTES, to);
        for (long at = 0; at < DISK_BYTES; at += 1 << 20) {
            byte[] bytes = disks.raw(from, at, 1 << 20);
            Buffer b = env.buffers().allocate(bytes.length);
            try {
                java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofArray(bytes), 0, b.segment(), 0, bytes.length);
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), disks.medium(to), at, b.segment(), 0));
            } finally {
                b.release();
            }
        }
    }

    static void assertMirrorsEqual(Env env, Disks disks, String x, String y) throws Exception {
        long off = sbOf(env, disks, x).dataOffsetSectors() * 512;
        long size = sbOf(env, disks, x).sizeSectors() * 512;
        assertArrayEquals(disks.raw(x, off, (int) size), disks.raw(y, off, (int) size), x + " and " + y + " differ");
    }

    @Test
    void bitIsOnDiskBeforeTheFirstWriteAndClearedByTheDaemonWithEventsInStep() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            create(env, disks, true, "a", "b");
            try (MdArray a = assemble(disks, false, "a", "b")) {
                WriteIntentBitmap bm = a.redundancy().bitmap();
                assertNotNull(bm, "the array has a bitmap");
                assertEquals(BITMAP_CHUNK, bm.chunkBytes());
                // hold the data write on b so we can look at the disk between bit and data
                disks.holdFrom = 0;
                disks.holdTo = DISK_BYTES;
                long dataOff = sbOf(env, disks, "b").dataOffsetSectors() * 512;
                disks.holdFrom = dataOff + 3L * BITMAP_CHUNK;
                disks.holdTo = dataOff + 4L * BITMAP_CHUNK;
                disks.holdNanos = Disks.UNTIL_RELEASED; // a timed hold could end before the test looks
                Buffer buf = env.buffers().allocate(BLOCK);
                buf.segment().fill((byte) 7);
                io.jmd.sync.Completion done = new io.jmd.sync.Completion(env.scheduler(), "w");
                a.submit(Bio.write(3L * BITMAP_CHUNK, buf.segment(), 0, null, bio -> done.complete(bio.status())));
                await("the bit", () -> bm.counters().diskBit(3));
                // the data writes to a and b are held; the bit is durable before they went out
                await("the data writes held", () -> disks.heldCount() == 2);
                assertTrue(diskBit(env, disks, "a", 3), "bit set on a before the data write ended");
                assertTrue(diskBit(env, disks, "b", 3), "bit set on b before the data write ended");
                disks.release();
                assertEquals(Errno.OK, done.await());
                buf.release();
                await("bitmap events in step with the superblock's", () -> {
                    try {
                        return a.events() == bitmapHeader(env, disks, "a").events();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                await("the daemon clears the bit", () -> {
                    try {
                        return !diskBit(env, disks, "a", 3) && !diskBit(env, disks, "b", 3);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                assertEquals(0, bm.dirtyChunks());
                await("b's bitmap events in step", () -> {
                    try {
                        return a.events() == bitmapHeader(env, disks, "b").events();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                assertTrue(bitmapHeader(env, disks, "a").eventsCleared() > 0, "events_cleared recorded before clearing");
            }
            BitmapSuperblock h = bitmapHeader(env, disks, "a");
            assertEquals(sbOf(env, disks, "a").events(), h.events(), "clean stop: bitmap and superblock agree");
            assertFalse(h.isStale());
        }
    }

    @Test
    void crashResyncsOnlyTheDirtyChunksWhileServing() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            create(env, disks, true, "a", "b");
            long[] model;
            try (MdArray a = assemble(disks, false, "a", "b")) {
                a.redundancy().bitmap().setDaemonSleepNanos(60_000_000_000L); // no clearing before the "crash"
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                for (int chunk : new int[] {2, 5}) {
                    for (int k = 0; k < 4; k++) {
                        int block = (int) ((long) chunk * BITMAP_CHUNK / BLOCK) + k;
                        long version = ((long) chunk << 32) | k;
                        Buffer buf = env.buffers().allocate(BLOCK);
                        Raid1ArrayTest.fill(buf.segment(), version);
                        assertEquals(Errno.OK, SyncIo.write(env.scheduler(), a, (long) block * BLOCK, buf.segment(), 0));
                        buf.release();
                        model[block] = version;
                    }
                }
                // a write to chunk 9 is in flight (held on its way to both members) at the power cut,
                // so the array is dirty on disk; it never lands in the images
                long dataOff = sbOf(env, disks, "a").dataOffsetSectors() * 512;
                disks.holdFrom = dataOff + 9L * BITMAP_CHUNK;
                disks.holdTo = dataOff + 10L * BITMAP_CHUNK;
                disks.holdNanos = Disks.UNTIL_RELEASED; // a timed hold could land before the snapshots
                Buffer held = env.buffers().allocate(BLOCK);
                held.segment().fill((byte) 9);
                io.jmd.sync.Completion heldDone = new io.jmd.sync.Completion(env.scheduler(), "held");
                a.submit(Bio.write(9L * BITMAP_CHUNK, held.segment(), 0, null, bio -> heldDone.complete(bio.status())));
                await("the held write's bit", () -> a.redundancy().bitmap().dirtyChunks() == 3);
                await("the write held on both members", () -> disks.heldCount() == 2);
                snapshot(env, disks, "a", "a2");
                snapshot(env, disks, "b", "b2");
                disks.release();
                heldDone.await();
                held.release();
            }
            assertFalse(sbOf(env, disks, "a2").isClean(), "the images are of a dirty array");
            // the mirrors differ in a dirty chunk: a write reached a but not b before the crash
            long dataOff = sbOf(env, disks, "b2").dataOffsetSectors() * 512;
            rawWrite(env, disks, "b2", dataOff + 5L * BITMAP_CHUNK + 8 * BLOCK, BLOCK, 0x33);
            int torn = (int) (5L * BITMAP_CHUNK / BLOCK) + 8;
            model[torn] = 0x7070L << 32 | torn;
            Buffer t = env.buffers().allocate(BLOCK);
            Raid1ArrayTest.fill(t.segment(), model[torn]);
            assertEquals(Errno.OK, SyncIo.write(env.scheduler(), disks.medium("a2"), dataOff + (long) torn * BLOCK, t.segment(), 0));
            t.release();
            try (MdArray a = assemble(disks, false, "a2", "b2")) {
                assertTrue(a.notes().stream().anyMatch(n -> n.contains("only the 3 of")), a.notes().toString());
                awaitIdle(a);
                SyncStatus last = a.redundancy().engine().lastFinished();
                assertEquals(SyncAction.RESYNC, last.action());
                assertEquals(3, last.syncedChunks(), "only the dirty chunks were resynced");
                assertEquals(a.redundancy().bitmap().chunks() - 3, last.skippedChunks());
                verify(env, a, model);
            }
            assertMirrorsEqual(env, disks, "a2", "b2");
            assertEquals(Superblock1Layout.MAX_SECTOR, sbOf(env, disks, "b2").resyncOffsetSectors());
        }
    }

    @Test
    void dirtyArrayWithoutBitmapResyncsEverythingOnlineAndServesMeanwhile() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            create(env, disks, false, "a", "b");
            long dataOff = sbOf(env, disks, "b").dataOffsetSectors() * 512;
            rawWrite(env, disks, "b", dataOff + (3 << 20), 1 << 20, 0x5a);
            for (String n : new String[] {"a", "b"}) {
                var dev = disks.opener().open(n, false);
                SuperblockIo.Found f = SuperblockIo.read(env, dev);
                assertEquals(0, SuperblockIo.write(env, dev, f.superblock().withResyncOffsetSectors(0), f.location()));
            }
            try (MdArray a = assemble(disks, false, "a", "b")) {
                a.redundancy().engine().throttle().setLimits(1, 4_000); // ~4 MB/s: the resync takes a few seconds
                long[] model = new long[(int) (a.sizeBytes() / BLOCK)];
                await("resync running", () -> a.redundancy().engine().status() != null);
                writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                assertTrue(a.needsResync(), "still resyncing while the writes ran");
                a.redundancy().engine().throttle().setLimits(1_000, 10_000_000);
                awaitIdle(a);
                verify(env, a, model);
            }
            assertMirrorsEqual(env, disks, "a", "b");
        }
    }

    @Test
    void failedMemberIsReplacedByAnAddedSpareWhileWritesGoOn() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b", "c");
            create(env, disks, true, "a", "b");
            long[] model;
            try (MdArray a = assemble(disks, false, "a", "b")) {
                List<String> events = new ArrayList<>();
                a.redundancy().eventLog().listen(() -> { });
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 400, 8, n -> { }, new AtomicInteger());
                assertTrue(MemberManager.fail(a, "b").contains("faulty"));
                assertThrows(MdException.class, () -> MemberManager.fail(a, "a"), "the last working member");
                writeStream(env, a, model, 200, 8, n -> { }, new AtomicInteger());
                assertTrue(MemberManager.remove(a, "b").contains("removed"));
                a.redundancy().engine().throttle().setLimits(1, 8_000);
                assertTrue(MemberManager.add(a, "c", false).startsWith("added"));
                await("recovery running", () -> a.redundancy().engine().status() != null);
                writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                a.redundancy().engine().throttle().setLimits(1_000, 10_000_000);
                awaitIdle(a);
                assertTrue(a.personality().isOptimal(), a.personality().status());
                for (ArrayEvents.Event e : a.redundancy().eventLog().since(0)) {
                    events.add(e.name());
                }
                assertTrue(events.containsAll(List.of("Fail", "RebuildStarted", "RebuildFinished", "SpareActive")), events.toString());
                verify(env, a, model);
            }
            assertMirrorsEqual(env, disks, "a", "c");
            Superblock1 c = sbOf(env, disks, "c");
            assertFalse(c.hasFeature(FeatureBits.RECOVERY_OFFSET));
            assertEquals(1, c.devRoles().role(c.devNumber()), "c holds slot 1");
            try (MdArray again = assemble(disks, false, "a", "c")) {
                assertTrue(again.personality().isOptimal());
                verify(env, again, model);
            }
        }
    }

    @Test
    void recoveryOntoASparseSpareWritesHolesAsZeroesAndKeepsItSparse() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b", "c");
            create(env, disks, false, "a", "b");
            try (MdArray a = assemble(disks, false, "a", "b")) {
                // data only in the array's first MiB: the rest of the members are holes
                for (int i = 0; i < 8; i++) {
                    write(env, a, i * 128L * 1024, BLOCK, 0x40 + i);
                }
                MemberManager.fail(a, "b");
                MemberManager.remove(a, "b");
                long before = disks.medium("c").allocatedBytes();
                assertTrue(MemberManager.add(a, "c", false).startsWith("added"));
                awaitIdle(a);
                assertTrue(a.personality().isOptimal(), a.personality().status());
                long allocated = disks.medium("c").allocatedBytes() - before;
                // the sync copies whole windows that hold data (at most 4 MiB each: one here); a sync
                // that copied the holes would allocate the whole member
                long bound = 5L << 20;
                assertTrue(bound < DISK_BYTES / 2, "the test's bound means something");
                assertTrue(allocated > 0 && allocated <= bound, "the spare got " + allocated + " bytes allocated for 1 MiB of data");
            }
            assertMirrorsEqual(env, disks, "a", "c");
        }
    }

    @Test
    void levelsWithoutRedundancyRefuseAddAndSyncActionsAndWriteNothing() throws Exception {
        Env env = jmd.env();
        for (RaidLevel level : List.of(RaidLevel.RAID0, RaidLevel.LINEAR)) {
            try (Disks disks = new Disks(env)) {
                disks.add(DISK_BYTES, "a", "b", "c");
                ArrayModel.create(env, disks, CreateOptions.defaults(level, 2), "a", "b");
                try (MdArray a = assemble(disks, false, "a", "b")) {
                    MdException e = assertThrows(MdException.class, () -> MemberManager.add(a, "c", false));
                    assertTrue(e.getMessage().contains("has no redundancy"), e.getMessage());
                    assertEquals(Errno.ENOTSUP, a.redundancy().engine().request(io.jmd.md.resync.SyncAction.CHECK), level.mdadmName());
                    assertEquals(Errno.ENOTSUP, a.redundancy().engine().request(io.jmd.md.resync.SyncAction.REPAIR), level.mdadmName());
                }
                assertEquals(0, disks.medium("c").allocatedBytes(), "the refused member was not written");
            }
        }
    }

    @Test
    void dirtyArraysWithoutRedundancyAssembleCleanWithNothingToResync() throws Exception {
        Env env = jmd.env();
        for (RaidLevel level : List.of(RaidLevel.RAID0, RaidLevel.LINEAR)) {
            try (Disks disks = new Disks(env)) {
                disks.add(DISK_BYTES, "a", "b");
                ArrayModel.create(env, disks, CreateOptions.defaults(level, 2), "a", "b");
                try (MdArray a = assemble(disks, false, "a", "b")) {
                    // writes keep going while the members are copied: the copies are of a dirty array
                    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
                    Thread writer = new Thread(() -> {
                        for (int i = 0; !stop.get(); i = (i + 1) % 64) {
                            write(env, a, i * (long) BLOCK, BLOCK, i);
                        }
                    });
                    writer.start();
                    await("the array dirty on disk", () -> {
                        try {
                            return sbOf(env, disks, "a").resyncOffsetSectors() != Superblock1Layout.MAX_SECTOR;
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        }
                    });
                    snapshot(env, disks, "a", "a2");
                    snapshot(env, disks, "b", "b2");
                    stop.set(true);
                    writer.join();
                }
                assertNotEquals(Superblock1Layout.MAX_SECTOR, sbOf(env, disks, "a2").resyncOffsetSectors(), "the copy is dirty");
                try (MdArray again = assemble(disks, false, "a2", "b2")) {
                    assertFalse(again.needsResync(), level.mdadmName());
                    assertEquals(Superblock1Layout.MAX_SECTOR, sbOf(env, disks, "a2").resyncOffsetSectors(), "recorded in sync at once");
                }
            }
        }
    }

    @Test
    void hotSpareReplacesAFailedMemberByItselfAndSurvivesARestart() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b", "c");
            create(env, disks, true, "a", "b");
            long[] model;
            try (MdArray a = assemble(disks, false, "a", "b")) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 200, 8, n -> { }, new AtomicInteger());
                assertTrue(MemberManager.add(a, "c", false).startsWith("added"));
                Thread.sleep(100);
                assertEquals(MemberState.SPARE, MemberManager.find(a, "c").state(), "an optimal array keeps it as a spare");
                assertTrue(MdStat.format(List.of(a)).contains("c[2](S)"), MdStat.format(List.of(a)));
            }
            Superblock1 spare = sbOf(env, disks, "c");
            assertEquals(DevRole.SPARE, spare.devRoles().role(spare.devNumber()), "spares have role 0xffff");
            try (MdArray a = assemble(disks, false, "a", "b", "c")) {
                assertEquals(MemberState.SPARE, MemberManager.find(a, "c").state(), "the spare comes back as a spare");
                disks.faults("b").failDevice();
                writeStream(env, a, model, 100, 8, n -> { }, new AtomicInteger());
                awaitIdle(a);
                assertEquals(MemberState.IN_SYNC, MemberManager.find(a, "c").state(), "the hot spare took b's place");
                assertEquals("[2/2] [UU]", a.personality().status());
                verify(env, a, model);
                disks.faults("b").restoreDevice();
            }
            assertMirrorsEqual(env, disks, "a", "c");
        }
    }

    @Test
    void reAddedMemberIsRebuiltOnlyWhereTheBitmapSaysItMissedWrites() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            create(env, disks, true, "a", "b");
            long[] model;
            try (MdArray a = assemble(disks, false, "a", "b")) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 200, 8, n -> { }, new AtomicInteger());
                await("bits cleared", () -> a.redundancy().bitmap().dirtyChunks() == 0);
                int devNumber = MemberManager.find(a, "b").devNumber();
                MemberManager.fail(a, "b");
                MemberManager.remove(a, "b");
                for (int chunk : new int[] {1, 4}) {
                    int block = (int) ((long) chunk * BITMAP_CHUNK / BLOCK);
                    Buffer buf = env.buffers().allocate(BLOCK);
                    Raid1ArrayTest.fill(buf.segment(), 0xabcL << 32 | chunk);
                    assertEquals(Errno.OK, SyncIo.write(env.scheduler(), a, (long) block * BLOCK, buf.segment(), 0));
                    buf.release();
                    model[block] = 0xabcL << 32 | chunk;
                }
                Thread.sleep(200);
                assertEquals(2, a.redundancy().bitmap().dirtyChunks(), "degraded writes keep their bits");
                assertTrue(MemberManager.add(a, "b", true).startsWith("re-added"));
                awaitIdle(a);
                SyncStatus last = a.redundancy().engine().lastFinished();
                assertEquals(SyncAction.RECOVER, last.action());
                assertEquals(2, last.syncedChunks(), "only the chunks written while b was out");
                assertEquals(devNumber, MemberManager.find(a, "b").devNumber(), "a re-added member keeps its dev_number");
                verify(env, a, model);
            }
            assertMirrorsEqual(env, disks, "a", "b");
        }
    }

    @Test
    void checkFindsAnInjectedMismatchRepairFixesItAndCheckThenReportsZero() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            create(env, disks, false, "a", "b");
            try (MdArray a = assemble(disks, false, "a", "b")) {
                write(env, a, 0, 1 << 20, 0x11);
                long dataOff = sbOf(env, disks, "b").dataOffsetSectors() * 512;
                rawWrite(env, disks, "b", dataOff + (2 << 20) + 4096, 4096, 0x66);
                var engine = a.redundancy().engine();
                assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
                awaitIdle(a);
                assertEquals(128, engine.mismatchSectors(), "one 64 KiB unit differs");
                assertNotEquals(Arrays.hashCode(disks.raw("a", dataOff + (2 << 20), 8192)),
                    Arrays.hashCode(disks.raw("b", dataOff + (2 << 20), 8192)), "check writes nothing");
                assertEquals(Errno.OK, engine.request(SyncAction.REPAIR));
                awaitIdle(a);
                assertEquals(128, engine.mismatchSectors(), "repair counts what it fixed");
                assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
                awaitIdle(a);
                assertEquals(0, engine.mismatchSectors());
            }
            assertMirrorsEqual(env, disks, "a", "b");
        }
    }

    /**
     * As raid10's (Raid10RedundancyTest.readFixWaitsForTheSyncWindowOverItsBlock): a read of a
     * block not resynced yet, whose first sector turned unreadable on a after the resync window
     * read it there, must not resync the block beside that window, or the window writes its older
     * read of a over b and the mirrors differ after a finished resync.
     */
    @Test
    void readFixWaitsForTheSyncWindowOverItsBlock() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            create(env, disks, false, "a", "b");
            long dataOff = sbOf(env, disks, "a").dataOffsetSectors() * 512;
            long at = 3L << 20;
            FaultRule slow = divergeWithASlowResyncRead(env, disks, "a", dataOff + at, "b", dataOff + at, "a", "b");
            try (MdArray a = assemble(disks, false, "a", "b")) {
                await("the resync window read a", () -> slow.hits() == 1);
                disks.faults("a").addRule(FaultRule.error(dataOff + at, 512, Bio.Op.READ));
                byte[] seen = ParityArrayTest.read(env, a, at, BLOCK);
                awaitIdle(a);
                disks.faults("a").clearRules();
                assertArrayEquals(disks.raw("a", dataOff + at, BLOCK), disks.raw("b", dataOff + at, BLOCK),
                    "the mirrors differ after the resync");
                assertArrayEquals(seen, disks.raw("b", dataOff + at, BLOCK), "the client saw what no mirror holds");
            }
            assertMirrorsEqual(env, disks, "a", "b");
        }
    }

    /**
     * As raid10's (Raid10RedundancyTest.readOfABlockNotResyncedWaitsForTheSyncWindowAfterItsSourceFailed):
     * the resync window read a block not resynced yet from a, then a failed; a client read of the
     * block, now served by b alone, must not run beside that window, or it sees b's old value and
     * the window then writes its read of a over b: the next read returns something else with no
     * write in between.
     */
    @Test
    void readOfABlockNotResyncedWaitsForTheSyncWindowAfterItsSourceFailed() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            create(env, disks, false, "a", "b");
            long dataOff = sbOf(env, disks, "a").dataOffsetSectors() * 512;
            long at = 3L << 20;
            FaultRule slow = divergeWithASlowResyncRead(env, disks, "a", dataOff + at, "b", dataOff + at, "a", "b");
            try (MdArray a = assemble(disks, false, "a", "b")) {
                await("the resync window read a", () -> slow.hits() == 1);
                MemberManager.fail(a, "a");
                byte[] seen = ParityArrayTest.read(env, a, at, BLOCK);
                awaitIdle(a);
                byte[] again = ParityArrayTest.read(env, a, at, BLOCK);
                assertArrayEquals(seen, again, "a read of the block changed with no write in between");
                assertArrayEquals(seen, disks.raw("b", dataOff + at, BLOCK), "the client saw what b does not hold");
            }
        }
    }

    @Test
    void readErrorIsRepairedFromTheOtherMemberAndAMemberThatKeepsFailingIsFailed() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            create(env, disks, false, "a", "b");
            try (MdArray a = assemble(disks, false, "a", "b")) {
                long[] model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                long dataOff = sbOf(env, disks, "a").dataOffsetSectors() * 512;
                Member ma = MemberManager.find(a, "a");
                Buffer buf = env.buffers().allocate(BLOCK);
                // a latent sector error on a: the read goes to a (first by slot), fails, is served by
                // b, and b's good copy is written back to a and read again there
                disks.faults("a").addRule(FaultRule.error(dataOff, BLOCK, Bio.Op.READ).times(1));
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), a, 0, buf.segment()));
                assertEquals(1, ma.correctedReads(), "the read error was corrected by a rewrite");
                assertTrue(ma.isInSync());
                assertEquals(model[0], buf.segment().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0));
                // a member whose rewrite does not take is failed (the next read is sequential: a again)
                disks.faults("a").addRule(FaultRule.error(dataOff + BLOCK, BLOCK, Bio.Op.READ, Bio.Op.WRITE));
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), a, BLOCK, buf.segment()));
                assertEquals(MemberState.FAULTY, ma.state());
                buf.release();
                disks.faults("a").clearRules();
                verify(env, a, model);
            }
        }
    }

    @Test
    void syncThreadThatCannotStartClearsEveryFlagReportsItAndTheArrayServes() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean refuse = new java.util.concurrent.atomic.AtomicBoolean(true);
        io.jmd.sync.DependencyChecker checker = new io.jmd.sync.DependencyChecker(io.jmd.sync.DependencyChecker.Mode.THROW,
            System.err::println);
        io.jmd.sync.Scheduler real = new io.jmd.sync.RealScheduler(io.jmd.sync.Clock.SYSTEM, checker);
        io.jmd.sync.Scheduler refusing = new io.jmd.testutil.ForwardingScheduler(real) {
            @Override
            public io.jmd.sync.JmdThread start(String name, java.util.Set<io.jmd.sync.ThreadRole> roles, Runnable body) {
                if (name.endsWith("_check") && refuse.get()) {
                    throw new OutOfMemoryError("unable to create native thread (injected)");
                }
                return super.start(name, roles, body);
            }
        };
        Env env = new Env(refusing, new java.util.SplittableRandom(42), 256L << 20, true);
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            create(env, disks, false, "a", "b");
            try (MdArray a = assemble(disks, false, "a", "b")) {
                var engine = a.redundancy().engine();
                long before = a.redundancy().eventLog().nextSeq();
                assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
                await("the start failure", () -> engine.lastError() != null);
                assertEquals(0, engine.flags() & ~io.jmd.md.resync.SyncEngine.NEEDED, "every recovery flag cleared");
                assertEquals("idle", engine.syncActionName());
                assertTrue(a.redundancy().eventLog().since(before).stream().anyMatch(e -> e.name().equals("SyncStartFailed")));
                write(env, a, 0, BLOCK, 3);
                refuse.set(false);
                assertEquals(Errno.OK, engine.request(SyncAction.CHECK), "it can start once threads can");
                awaitIdle(a);
                assertNull(engine.lastError());
            }
        } finally {
            env.close();
            JmdEnvExtension.check(env);
        }
    }

    @Test
    void interruptedRecoveryResumesFromItsCheckpointAfterARestart() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b", "c");
            create(env, disks, false, "a", "b");
            long[] model;
            try (MdArray a = assemble(disks, false, "a", "b")) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                MemberManager.fail(a, "b");
                MemberManager.remove(a, "b");
                a.redundancy().engine().throttle().setLimits(1, 2_000); // 2 MB/s: stopped half way
                MemberManager.add(a, "c", false);
                await("recovery past a checkpoint", () -> {
                    Member c = a.members().stream().filter(m -> m.path().equals("c")).findFirst().orElseThrow();
                    return c.recoveryOffsetBytes() > 0;
                });
            }
            Superblock1 c = sbOf(env, disks, "c");
            assertTrue(c.hasFeature(FeatureBits.RECOVERY_OFFSET), "c records how far it was rebuilt");
            assertTrue(c.recoveryOffsetSectors() > 0);
            assertEquals(1, c.devRoles().role(c.devNumber()));
            try (MdArray a = assemble(disks, true, "a", "c")) {
                Member mc = MemberManager.find(a, "c");
                assertEquals(MemberState.RECOVERING, mc.state());
                await("recovery resumed", () -> a.redundancy().engine().status() != null || mc.isInSync());
                SyncStatus s = a.redundancy().engine().status();
                if (s != null) {
                    assertTrue(s.doneBytes() >= c.recoveryOffsetSectors() * 512, "resumed at the checkpoint");
                }
                awaitIdle(a);
                assertTrue(mc.isInSync());
                verify(env, a, model);
            }
            assertMirrorsEqual(env, disks, "a", "c");
        }
    }

    /**
     * A rebuilt member is in sync from the end of its recovery, but recorded so only once the
     * superblock write that follows reaches it: until then a crash brings it back as being rebuilt,
     * so it is no copy to count on (the simulator's fault model reads this: jmd sim --seed 3017).
     */
    @Test
    void aRebuiltMemberIsRecordedInSyncOnlyOnceItsSuperblockSaysSo() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b", "c");
            create(env, disks, false, "a", "b");
            try (MdArray a = assemble(disks, false, "a", "b")) {
                assertTrue(MemberManager.find(a, "a").isInSyncRecorded(), "assembled in sync: its superblock says so");
                write(env, a, 0, BLOCK, 7);
                MemberManager.fail(a, "b");
                MemberManager.remove(a, "b");
                a.redundancy().engine().throttle().setLimits(1, 1); // held near the start
                MemberManager.add(a, "c", false);
                Member c = MemberManager.find(a, "c");
                await("recovery under way", () -> c.state() == MemberState.RECOVERING && a.redundancy().engine().status() != null);
                assertFalse(c.isInSyncRecorded());
                // c's superblock write recording it in sync (no recovery offset) is held before the
                // medium (not only its completion) until the test has looked; the rebuild's own
                // checkpoints, which it waits for before c is in sync, go through
                disks.holdOnly = "c";
                disks.holdIf = bio -> (bio.data.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN),
                    Superblock1Layout.OFF_FEATURE_MAP) & FeatureBits.RECOVERY_OFFSET) == 0;
                disks.holdFrom = 8 * 512; // v1.2: 4 KiB from the start
                disks.holdTo = disks.holdFrom + 4096;
                disks.holdNanos = Disks.UNTIL_RELEASED;
                a.redundancy().engine().setSpeedLimits(1_000, 10_000_000);
                await("c in sync", c::isInSync);
                assertFalse(c.isInSyncRecorded(), "in sync in memory while its superblock write is held");
                assertTrue(sbOf(env, disks, "c").hasFeature(FeatureBits.RECOVERY_OFFSET), "on disk: still being rebuilt");
                disks.release();
                await("c recorded in sync", c::isInSyncRecorded);
                assertFalse(sbOf(env, disks, "c").hasFeature(FeatureBits.RECOVERY_OFFSET), "recorded: on disk in sync");
            }
        }
    }

    @Test
    void readOnlyDirtyArrayReadsFromTheFirstMemberAndWritesNothing() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            create(env, disks, false, "a", "b");
            long dataOff = sbOf(env, disks, "b").dataOffsetSectors() * 512;
            rawWrite(env, disks, "a", dataOff, 1 << 20, 0x21);
            rawWrite(env, disks, "b", dataOff, 1 << 20, 0x12);
            for (String n : new String[] {"a", "b"}) {
                var dev = disks.opener().open(n, false);
                SuperblockIo.Found f = SuperblockIo.read(env, dev);
                assertEquals(0, SuperblockIo.write(env, dev, f.superblock().withResyncOffsetSectors(0), f.location()));
            }
            byte[] aBefore = disks.raw("a", 0, (int) DISK_BYTES);
            byte[] bBefore = disks.raw("b", 0, (int) DISK_BYTES);
            disks.faults("a").addRule(FaultRule.error(dataOff + (1 << 20), BLOCK, Bio.Op.READ).times(1));
            try (MdArray a = Assembler.assemble(env, disks.opener(), List.of("a", "b"), new Assembler.Options(false, true))) {
                Buffer buf = env.buffers().allocate(1 << 20);
                for (int i = 0; i < 4; i++) {
                    assertEquals(Errno.OK, SyncIo.read(env.scheduler(), a, 0, buf.segment()));
                    assertEquals(0x21, buf.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4096), "the first member's copy");
                }
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), a, 1 << 20, buf.segment()), "served by b after a's error");
                buf.release();
            }
            assertArrayEquals(aBefore, disks.raw("a", 0, (int) DISK_BYTES), "a read-only array writes nothing to a");
            assertArrayEquals(bBefore, disks.raw("b", 0, (int) DISK_BYTES), "nor to b");
        }
    }

    @Test
    void staleBitmapCountsEveryChunkAsDirty() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            create(env, disks, true, "a", "b");
            // a writer that ignored the bitmap bumped the superblock events: the bitmap is behind
            for (String n : new String[] {"a", "b"}) {
                var dev = disks.opener().open(n, false);
                SuperblockIo.Found f = SuperblockIo.read(env, dev);
                Superblock1 sb = f.superblock().toBuilder().events(f.superblock().events() + 5).resyncOffsetSectors(0).build();
                assertEquals(0, SuperblockIo.write(env, dev, sb, f.location()));
            }
            try (MdArray a = assemble(disks, false, "a", "b")) {
                WriteIntentBitmap bm = a.redundancy().bitmap();
                assertTrue(bm.wasStale());
                assertEquals(bm.chunks(), bm.neededAtLoad(), "all bits set");
                awaitIdle(a);
                assertEquals(bm.chunks(), a.redundancy().engine().lastFinished().syncedChunks());
            }
            assertEquals(DevRole.SPARE, DevRole.SPARE);
            assertFalse(bitmapHeader(env, disks, "a").isStale());
        }
    }
}

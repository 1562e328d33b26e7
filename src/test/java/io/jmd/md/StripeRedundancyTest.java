package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.FaultRule;
import io.jmd.block.SyncIo;
import io.jmd.md.bitmap.WriteIntentBitmap;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.FeatureBits;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.Superblock1Layout;
import io.jmd.md.resync.SyncAction;
import io.jmd.md.resync.SyncStatus;
import io.jmd.md.stripe.ParityLayout;
import io.jmd.md.stripe.StripeEngine;
import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.jmd.md.Raid1ArrayTest.BLOCK;
import static io.jmd.md.Raid1ArrayTest.verify;
import static io.jmd.md.Raid1ArrayTest.writeStream;
import static io.jmd.md.RedundancyTest.await;
import static io.jmd.md.RedundancyTest.awaitIdle;
import static io.jmd.md.RedundancyTest.rawWrite;
import static io.jmd.md.RedundancyTest.sbOf;
import static io.jmd.md.RedundancyTest.snapshot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The redundancy machinery on RAID4/5/6 (StripeSync), on injected storage: the bitmap kept in
 * member bytes, online resync of only the dirty chunks after a crash, recovery onto spares while
 * writes go on (raid6: two members at once), re-add, check/repair, read errors rewritten.
 */
final class StripeRedundancyTest {
    static final long DISK_BYTES = RedundancyTest.DISK_BYTES;
    static final int CHUNK_KIB = 64;
    static final int BITMAP_CHUNK = 64 << 10;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    static void create(Env env, Disks disks, RaidLevel level, boolean bitmap, String... names) throws Exception {
        CreateOptions o = CreateOptions.defaults(level, names.length).withChunkKib(CHUNK_KIB).withInternalBitmap(bitmap);
        if (bitmap) {
            o = o.withBitmapChunkBytes(BITMAP_CHUNK);
        }
        ArrayModel.create(env, disks, o, names);
    }

    static MdArray assemble(Disks disks, boolean run, String... names) throws MdException {
        return RedundancyTest.assemble(disks, run, names);
    }

    /**
     * Empties the stripe cache (shrunk to its least, then set back): rows written earlier hold
     * every member's pages, a missing member's too, and a read of a cached row needs no member.
     */
    static void forgetCachedStripes(MdArray a) {
        StripeEngine se = (StripeEngine) a.personality();
        int size = se.stripeCacheSize();
        se.setStripeCacheSize(4);
        se.setStripeCacheSize(size);
    }

    static long checkParity(MdArray a) throws MdException {
        return ((StripeEngine) a.personality()).checkParity();
    }

    /** The disk holding array byte {@code arrayOffset}, and the byte on it (from the disk's start). */
    static String diskOf(Env env, Disks disks, MdArray a, String[] names, long arrayOffset, long[] diskOffset) throws Exception {
        ParityLayout layout = ((StripeEngine) a.personality()).layout();
        ParityLayout.Place p = layout.place(arrayOffset / 512, CHUNK_KIB * 2);
        String n = names[p.dataMember()];
        diskOffset[0] = sbOf(env, disks, n).dataOffsetSectors() * 512 + p.memberSector() * 512;
        return n;
    }

    static void writeBlock(Env env, MdArray a, long[] model, int block, long version) {
        Buffer buf = env.buffers().allocate(BLOCK);
        try {
            Raid1ArrayTest.fill(buf.segment(), version);
            assertEquals(Errno.OK, SyncIo.write(env.scheduler(), a, (long) block * BLOCK, buf.segment(), 0));
            model[block] = version;
        } finally {
            buf.release();
        }
    }

    static List<String> eventNames(MdArray a) {
        return a.redundancy().eventLog().since(0).stream().map(ArrayEvents.Event::name).toList();
    }

    @Test
    void raid5CrashResyncsOnlyTheDirtyChunksInMemberBytesWhileServing() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3"};
        String[] images = {"i0", "i1", "i2", "i3"};
        long rowBytes = 3L * CHUNK_KIB * 1024; // 3 data chunks per row: member chunk r is row r
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, names);
            create(env, disks, RaidLevel.RAID5, true, names);
            long[] model;
            try (MdArray a = assemble(disks, false, names)) {
                WriteIntentBitmap bm = a.redundancy().bitmap();
                assertTrue(bm.chunks() * (long) BITMAP_CHUNK >= ((StripeEngine) a.personality()).geometry().memberBytes()
                    && bm.chunks() * (long) BITMAP_CHUNK < a.sizeBytes() / 2, "the bitmap covers member bytes, not array bytes");
                bm.setDaemonSleepNanos(60_000_000_000L); // no clearing before the "crash"
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                for (int row : new int[] {2, 5}) {
                    for (int k = 0; k < 4; k++) {
                        // the third data chunk of the row: member bytes [row * 64K, +16K) on its member and P
                        int block = (int) ((row * rowBytes + 2L * CHUNK_KIB * 1024) / BLOCK) + k;
                        writeBlock(env, a, model, block, ((long) row << 32) | k);
                    }
                }
                assertTrue(bm.counters().diskBit(2) && bm.counters().diskBit(5), "the bits of member chunks 2 and 5");
                // a write to row 9 is in flight (held on its way to the members) at the power cut
                long dataOff = sbOf(env, disks, "d0").dataOffsetSectors() * 512;
                disks.holdFrom = dataOff + 9L * BITMAP_CHUNK;
                disks.holdTo = dataOff + 10L * BITMAP_CHUNK;
                disks.holdNanos = Disks.UNTIL_RELEASED; // a timed hold could land before the snapshots
                Buffer held = env.buffers().allocate(BLOCK);
                held.segment().fill((byte) 9);
                io.jmd.sync.Completion heldDone = new io.jmd.sync.Completion(env.scheduler(), "held");
                a.submit(Bio.write(9 * rowBytes, held.segment(), 0, null, bio -> heldDone.complete(bio.status())));
                await("the held write's bit", () -> bm.dirtyChunks() == 3);
                await("the write held", () -> disks.heldCount() > 0);
                for (int i = 0; i < names.length; i++) {
                    snapshot(env, disks, names[i], images[i]);
                }
                disks.release();
                heldDone.await();
                held.release();
            }
            assertFalse(sbOf(env, disks, "i0").isClean(), "the images are of a dirty array");
            // a torn write in dirty chunk 5: a data block reached its member, the parity did not
            int torn = (int) ((5 * rowBytes) / BLOCK) + 1;
            try (MdArray probe = assemble(disks, false, names)) {
                long[] at = new long[1];
                String n = diskOf(env, disks, probe, names, (long) torn * BLOCK, at);
                String image = images[java.util.Arrays.asList(names).indexOf(n)];
                Buffer t = env.buffers().allocate(BLOCK);
                model[torn] = 0x7070L << 32 | torn;
                Raid1ArrayTest.fill(t.segment(), model[torn]);
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), disks.medium(image), at[0], t.segment(), 0));
                t.release();
            }
            try (MdArray a = assemble(disks, false, images)) {
                assertTrue(a.notes().stream().anyMatch(x -> x.contains("only the 3 of")), a.notes().toString());
                awaitIdle(a);
                SyncStatus last = a.redundancy().engine().lastFinished();
                assertEquals(SyncAction.RESYNC, last.action());
                assertEquals(3, last.syncedChunks(), "only the dirty chunks were resynced");
                assertEquals(a.redundancy().bitmap().chunks() - 3, last.skippedChunks());
                assertEquals(8, last.mismatchSectors(), "the torn stripe's parity was rewritten (one 4 KiB column)");
                assertEquals(0, checkParity(a));
                verify(env, a, model);
            }
            assertEquals(Superblock1Layout.MAX_SECTOR, sbOf(env, disks, "i1").resyncOffsetSectors());
        }
    }

    @Test
    void raid5FailedMemberIsReplacedByAnAddedSpareWhileWritesGoOn() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3"};
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "d0", "d1", "d2", "d3", "e");
            create(env, disks, RaidLevel.RAID5, true, names);
            long[] model;
            try (MdArray a = assemble(disks, false, names)) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 400, 8, n -> { }, new AtomicInteger());
                assertTrue(MemberManager.fail(a, "d1").contains("faulty"));
                org.junit.jupiter.api.Assertions.assertThrows(MdException.class, () -> MemberManager.fail(a, "d2"),
                    "raid5 cannot lose a second member");
                writeStream(env, a, model, 200, 8, n -> { }, new AtomicInteger());
                assertTrue(MemberManager.remove(a, "d1").contains("removed"));
                a.redundancy().engine().throttle().setLimits(1, 8_000);
                assertTrue(MemberManager.add(a, "e", false).startsWith("added"));
                await("recovery running", () -> a.redundancy().engine().status() != null);
                String mdstat = MdStat.format(List.of(a));
                assertTrue(mdstat.contains("recovery =") && mdstat.contains("[4/3] [U_UU]"), mdstat);
                String detail = Detail.format(a, java.time.ZoneOffset.UTC);
                assertTrue(detail.contains("Rebuild Status") && detail.contains("spare rebuilding"), detail);
                writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                a.redundancy().engine().throttle().setLimits(1_000, 10_000_000);
                awaitIdle(a);
                assertTrue(a.personality().isOptimal(), a.personality().status());
                assertTrue(eventNames(a).containsAll(List.of("Fail", "RebuildStarted", "RebuildFinished", "SpareActive")),
                    eventNames(a).toString());
                verify(env, a, model);
                assertEquals(0, checkParity(a));
            }
            Superblock1 e = sbOf(env, disks, "e");
            assertFalse(e.hasFeature(FeatureBits.RECOVERY_OFFSET));
            assertEquals(1, e.devRoles().role(e.devNumber()), "e holds slot 1");
            try (MdArray again = assemble(disks, false, "d0", "e", "d2", "d3")) {
                assertTrue(again.personality().isOptimal());
                verify(env, again, model);
                assertEquals(0, checkParity(again));
            }
            // and the rebuilt member really holds its blocks: the array runs without d2
            try (MdArray withoutD2 = assemble(disks, true, "d0", "e", "d3")) {
                verify(env, withoutD2, model);
            }
        }
    }

    @Test
    void raid5HotSpareReplacesAFailedMemberByItself() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2"};
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "d0", "d1", "d2", "e");
            create(env, disks, RaidLevel.RAID5, true, names);
            try (MdArray a = assemble(disks, false, names)) {
                long[] model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 200, 8, n -> { }, new AtomicInteger());
                assertTrue(MemberManager.add(a, "e", false).startsWith("added"));
                Thread.sleep(100);
                assertEquals(MemberState.SPARE, MemberManager.find(a, "e").state(), "an optimal array keeps it as a spare");
                disks.faults("d0").failDevice();
                writeStream(env, a, model, 100, 8, n -> { }, new AtomicInteger());
                awaitIdle(a);
                assertEquals(MemberState.IN_SYNC, MemberManager.find(a, "e").state(), "the hot spare took d0's place");
                assertTrue(a.personality().isOptimal(), a.personality().status());
                verify(env, a, model);
                assertEquals(0, checkParity(a));
                disks.faults("d0").restoreDevice();
            }
        }
    }

    @Test
    void recoveryOfASparseRaid5LeavesTheSpareSparseAndReadsOnlyWhereThereIsData() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3"};
        long rowBytes = 3L * CHUNK_KIB * 1024;
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "d0", "d1", "d2", "d3", "e");
            create(env, disks, RaidLevel.RAID5, false, names);
            long[] model;
            try (MdArray a = assemble(disks, false, names)) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                for (int row : new int[] {3, 40}) { // two rows with data, in the first 4 MiB of each member
                    writeBlock(env, a, model, (int) (row * rowBytes / BLOCK), 0x5150L << 32 | row);
                    writeBlock(env, a, model, (int) ((row * rowBytes + 2L * CHUNK_KIB * 1024) / BLOCK), 0x5152L << 32 | row);
                }
                MemberManager.fail(a, "d1");
                MemberManager.remove(a, "d1");
                long before = disks.medium("e").allocatedBytes();
                MemberManager.add(a, "e", false);
                awaitIdle(a);
                assertTrue(a.personality().isOptimal(), a.personality().status());
                long allocated = disks.medium("e").allocatedBytes() - before;
                long memberBytes = ((StripeEngine) a.personality()).geometry().memberBytes();
                // one 4 MiB sync window holds the two rows; the rest of e is still a hole (its superblock aside)
                assertTrue(allocated <= (4L << 20) + (64 << 10) && memberBytes > 12L << 20, "the spare got zeroes as holes,"
                    + " data only in the window with the two rows: " + allocated + " of " + memberBytes + " bytes allocated");
                verify(env, a, model);
                assertEquals(0, checkParity(a));
            }
            try (MdArray a = assemble(disks, true, "d0", "e", "d3")) {
                verify(env, a, model);
            }
        }
    }

    @Test
    void raid6RebuildsTwoFailedMembersAtOnceWhileWritesGoOn() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3", "d4", "d5"};
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "d0", "d1", "d2", "d3", "d4", "d5", "s1", "s4");
            create(env, disks, RaidLevel.RAID6, true, names);
            long[] model;
            try (MdArray a = assemble(disks, false, names)) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 400, 8, n -> { }, new AtomicInteger());
                var engine = a.redundancy().engine();
                engine.setFrozen(true); // both failures and both spares before the recovery starts
                MemberManager.fail(a, "d1");
                MemberManager.fail(a, "d4");
                org.junit.jupiter.api.Assertions.assertThrows(MdException.class, () -> MemberManager.fail(a, "d0"),
                    "raid6 cannot lose a third member");
                writeStream(env, a, model, 200, 8, n -> { }, new AtomicInteger());
                MemberManager.remove(a, "failed");
                MemberManager.add(a, "s1", false);
                MemberManager.add(a, "s4", false);
                engine.throttle().setLimits(1, 8_000);
                long before = a.redundancy().eventLog().nextSeq();
                engine.setFrozen(false);
                await("recovery running", () -> engine.status() != null);
                writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                engine.throttle().setLimits(1_000, 10_000_000);
                awaitIdle(a);
                ArrayEvents.Event started = a.redundancy().eventLog().since(before).stream()
                    .filter(x -> x.name().equals("RebuildStarted")).findFirst().orElseThrow();
                assertTrue(started.detail().contains("s1") && started.detail().contains("s4"),
                    "one recovery rebuilt both: " + started.detail());
                assertTrue(a.personality().isOptimal(), a.personality().status());
                verify(env, a, model);
                assertEquals(0, checkParity(a));
            }
            // the two rebuilt members hold their blocks: the array runs on them with two others gone
            try (MdArray a = assemble(disks, true, "s1", "d2", "d3", "s4")) {
                verify(env, a, model);
            }
        }
    }

    @Test
    void interruptedRaid6RecoveryOfTwoMembersResumesFromItsCheckpointAfterARestart() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3", "d4"};
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "d0", "d1", "d2", "d3", "d4", "s0", "s3");
            create(env, disks, RaidLevel.RAID6, false, names);
            long[] model;
            try (MdArray a = assemble(disks, false, names)) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                a.redundancy().engine().setFrozen(true);
                MemberManager.fail(a, "d0");
                MemberManager.fail(a, "d3");
                MemberManager.remove(a, "failed");
                a.redundancy().engine().throttle().setLimits(1, 1_000); // 1 MB/s: stopped part way
                MemberManager.add(a, "s0", false);
                MemberManager.add(a, "s3", false);
                a.redundancy().engine().setFrozen(false);
                await("recovery past a checkpoint", () -> a.members().stream()
                    .filter(m -> m.path().equals("s3")).findFirst().orElseThrow().recoveryOffsetBytes() > 0);
            }
            for (String s : new String[] {"s0", "s3"}) {
                Superblock1 sb = sbOf(env, disks, s);
                assertTrue(sb.hasFeature(FeatureBits.RECOVERY_OFFSET), s + " records how far it was rebuilt");
                assertTrue(sb.recoveryOffsetSectors() > 0, s);
            }
            long checkpoint = sbOf(env, disks, "s3").recoveryOffsetSectors() * 512;
            try (MdArray a = assemble(disks, true, "s0", "d1", "d2", "s3", "d4")) {
                assertTrue(a.notes().stream().anyMatch(n -> n.contains("s3 is being rebuilt")), a.notes().toString());
                Member s3 = MemberManager.find(a, "s3");
                await("recovery resumed", () -> a.redundancy().engine().status() != null || s3.isInSync());
                SyncStatus st = a.redundancy().engine().status();
                if (st != null) {
                    assertTrue(st.doneBytes() >= checkpoint, "resumed at the checkpoint, not from 0");
                }
                awaitIdle(a);
                assertTrue(a.personality().isOptimal(), a.personality().status());
                verify(env, a, model);
                assertEquals(0, checkParity(a));
            }
            try (MdArray a = assemble(disks, true, "s0", "d2", "s3")) {
                verify(env, a, model); // both rebuilt members hold their blocks
            }
        }
    }

    @Test
    void reAddedRaid5MemberIsRebuiltOnlyWhereTheBitmapSaysItMissedWrites() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3"};
        long rowBytes = 3L * CHUNK_KIB * 1024;
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, names);
            create(env, disks, RaidLevel.RAID5, true, names);
            long[] model;
            try (MdArray a = assemble(disks, false, names)) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 200, 8, n -> { }, new AtomicInteger());
                await("bits cleared", () -> a.redundancy().bitmap().dirtyChunks() == 0);
                MemberManager.fail(a, "d2");
                MemberManager.remove(a, "d2");
                for (int row : new int[] {1, 4}) {
                    writeBlock(env, a, model, (int) (row * rowBytes / BLOCK), 0xabcL << 32 | row);
                }
                Thread.sleep(200);
                assertEquals(2, a.redundancy().bitmap().dirtyChunks(), "degraded writes keep their bits");
                assertTrue(MemberManager.add(a, "d2", true).startsWith("re-added"));
                awaitIdle(a);
                SyncStatus last = a.redundancy().engine().lastFinished();
                assertEquals(SyncAction.RECOVER, last.action());
                assertEquals(2, last.syncedChunks(), "only the chunks written while d2 was out");
                verify(env, a, model);
                assertEquals(0, checkParity(a));
            }
            try (MdArray a = assemble(disks, true, "d0", "d2", "d3")) {
                verify(env, a, model);
            }
        }
    }

    @Test
    void checkFindsAnInjectedMismatchRepairFixesItAndCheckThenReportsZero() throws Exception {
        Env env = jmd.env();
        for (RaidLevel level : new RaidLevel[] {RaidLevel.RAID4, RaidLevel.RAID5, RaidLevel.RAID6}) {
            String[] names = {"d0", "d1", "d2", "d3", "d4"};
            try (Disks disks = new Disks(env)) {
                disks.add(DISK_BYTES, names);
                create(env, disks, level, false, names);
                try (MdArray a = assemble(disks, false, names)) {
                    long[] model = new long[(int) (a.sizeBytes() / BLOCK)];
                    writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                    // one page of one member (whatever it holds in that row) goes bad behind jmd's back
                    long dataOff = sbOf(env, disks, "d3").dataOffsetSectors() * 512;
                    long at = dataOff + (1 << 20) + 4096;
                    byte[] before = disks.raw("d3", at, 4096);
                    rawWrite(env, disks, "d3", at, 4096, 0x66);
                    var engine = a.redundancy().engine();
                    assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
                    awaitIdle(a);
                    assertEquals(8, engine.mismatchSectors(), level + ": one 4 KiB column differs");
                    assertNotEquals(java.util.Arrays.hashCode(before), java.util.Arrays.hashCode(disks.raw("d3", at, 4096)),
                        "check writes nothing");
                    assertEquals(Errno.OK, engine.request(SyncAction.REPAIR));
                    awaitIdle(a);
                    assertEquals(8, engine.mismatchSectors(), level + ": repair counts what it fixed");
                    assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
                    awaitIdle(a);
                    assertEquals(0, engine.mismatchSectors(), level.toString());
                    assertEquals(0, checkParity(a), level.toString());
                }
            }
        }
    }

    @Test
    void raid6WithOneMemberMissingStillChecksWhatItsSecondParityCovers() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3", "d4"};
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, names);
            create(env, disks, RaidLevel.RAID6, false, names);
            try (MdArray a = assemble(disks, false, names)) {
                long[] model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                MemberManager.fail(a, "d2");
                long dataOff = sbOf(env, disks, "d3").dataOffsetSectors() * 512;
                rawWrite(env, disks, "d3", dataOff + (1 << 20) + 4096, 4096, 0x66);
                var engine = a.redundancy().engine();
                assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
                awaitIdle(a);
                assertEquals(8, engine.mismatchSectors(), "one parity left: a bad page is still found");
                assertEquals(Errno.OK, engine.request(SyncAction.REPAIR));
                awaitIdle(a);
                assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
                awaitIdle(a);
                assertEquals(0, engine.mismatchSectors(), "repair made the parity left match");
            }
        }
    }

    @Test
    void degradedRaid5HasNothingToCheckAndTheCheckEndsAtOnce() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3"};
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, names);
            create(env, disks, RaidLevel.RAID5, false, names);
            try (MdArray a = assemble(disks, false, names)) {
                long[] model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 100, 8, n -> { }, new AtomicInteger());
                MemberManager.fail(a, "d2");
                int dataOff = (int) (sbOf(env, disks, "d0").dataOffsetSectors() * 512);
                byte[] before = disks.raw("d0", dataOff, (int) DISK_BYTES - dataOff);
                var engine = a.redundancy().engine();
                assertEquals(Errno.OK, engine.request(SyncAction.REPAIR));
                awaitIdle(a);
                assertEquals(0, engine.mismatchSectors(), "no redundancy left to compare (md's raid5_sync_request skips)");
                assertArrayEquals(before, disks.raw("d0", dataOff, (int) DISK_BYTES - dataOff), "no data or parity written");
                verify(env, a, model);
            }
        }
    }

    /**
     * Checks run back to back while two threads write requests of any size and alignment (many
     * spanning chunks and rows) and write-zeroes: a check that read a stripe between its data and
     * its parity writes would count a mismatch, so every check must find none (the barrier maps
     * each write to the member range it touches); then a recovery of two members under the same load.
     */
    @Test
    void checksAndARecoveryUnderRandomWritesOfAnySizeFindNoMismatchAndLoseNothing() throws Exception {
        Env env = jmd.env();
        for (RaidLevel level : new RaidLevel[] {RaidLevel.RAID5, RaidLevel.RAID6}) {
            String[] names = {"d0", "d1", "d2", "d3", "d4"};
            try (Disks disks = new Disks(env)) {
                disks.add(DISK_BYTES, "d0", "d1", "d2", "d3", "d4", "s1", "s3");
                create(env, disks, level, true, names);
                try (MdArray a = assemble(disks, false, names)) {
                    ArrayModel model = new ArrayModel(a.sizeBytes());
                    var engine = a.redundancy().engine();
                    java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
                    java.util.concurrent.atomic.AtomicLong mismatches = new java.util.concurrent.atomic.AtomicLong();
                    java.util.concurrent.atomic.AtomicInteger checks = new java.util.concurrent.atomic.AtomicInteger();
                    java.util.concurrent.atomic.AtomicInteger started = new java.util.concurrent.atomic.AtomicInteger();
                    java.util.concurrent.atomic.AtomicBoolean load = new java.util.concurrent.atomic.AtomicBoolean(true);
                    Thread checker = Thread.ofPlatform().daemon(true).start(() -> {
                        try {
                            while (load.get()) {
                                if (engine.request(SyncAction.CHECK) == Errno.OK) {
                                    started.incrementAndGet();
                                    awaitIdle(a);
                                    mismatches.addAndGet(engine.mismatchSectors());
                                    checks.incrementAndGet();
                                }
                            }
                        } catch (Throwable e) {
                            failed.compareAndSet(null, e);
                        }
                    });
                    // the load starts once a check does: a slow thread start must not leave it without one
                    await("the first check started", () -> started.get() > 0 || failed.get() != null);
                    model.randomIo(env, a, 2, 400, 256 << 10, 21);
                    load.set(false);
                    checker.join(60_000);
                    assertEquals(null, failed.get());
                    assertTrue(checks.get() > 0, "checks ran under the load");
                    assertEquals(0, mismatches.get(), level + ": " + checks.get() + " checks under writes found mismatches");
                    model.verify(env, a);

                    engine.setFrozen(true);
                    MemberManager.fail(a, "d1");
                    if (level == RaidLevel.RAID6) {
                        MemberManager.fail(a, "d3");
                    }
                    MemberManager.remove(a, "failed");
                    MemberManager.add(a, "s1", false);
                    if (level == RaidLevel.RAID6) {
                        MemberManager.add(a, "s3", false);
                    }
                    engine.throttle().setLimits(1, 8_000);
                    engine.setFrozen(false);
                    await("recovery running", () -> engine.status() != null);
                    model.randomIo(env, a, 2, 300, 256 << 10, 22);
                    engine.throttle().setLimits(1_000, 10_000_000);
                    awaitIdle(a);
                    assertTrue(a.personality().isOptimal(), a.personality().status());
                    model.verify(env, a);
                    assertEquals(0, checkParity(a), level.toString());
                }
            }
        }
    }

    /**
     * A stripe cached with its parity, a data block changed behind jmd's back, repair rewrites the
     * parity from the data on disk: the cache must forget the old parity, or the next
     * read-modify-write computes the new parity from it and the stripe is wrong again.
     */
    @Test
    void repairRewritingParityMakesTheStripeCacheForgetIt() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3"};
        long rowBytes = 3L * CHUNK_KIB * 1024;
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, names);
            create(env, disks, RaidLevel.RAID5, false, names);
            try (MdArray a = assemble(disks, false, names)) {
                long[] model = new long[(int) (a.sizeBytes() / BLOCK)];
                int block = (int) (7 * rowBytes / BLOCK); // row 7, data chunk 0, page 0
                writeBlock(env, a, model, block, 0x1111L << 32);
                writeBlock(env, a, model, block, 0x2222L << 32); // read-modify-write: its data and P cached
                long[] at = new long[1];
                String other = diskOf(env, disks, a, names, 7 * rowBytes + CHUNK_KIB * 1024L, at); // data chunk 1, page 0
                rawWrite(env, disks, other, at[0], BLOCK, 0x5a);
                int otherBlock = (int) ((7 * rowBytes + CHUNK_KIB * 1024L) / BLOCK);
                var engine = a.redundancy().engine();
                assertEquals(Errno.OK, engine.request(SyncAction.REPAIR));
                awaitIdle(a);
                assertEquals(8, engine.mismatchSectors(), "repair fixed the parity of one column");
                writeBlock(env, a, model, block, 0x3333L << 32);
                assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
                awaitIdle(a);
                assertEquals(0, engine.mismatchSectors(), "the write after the repair used the parity on disk");
                assertEquals(0, checkParity(a));
                model[otherBlock] = -1; // changed behind jmd's back: not checked below
                for (int b = 0; b < model.length; b++) {
                    if (b != otherBlock && model[b] != 0) {
                        Buffer buf = env.buffers().allocate(BLOCK);
                        assertEquals(Errno.OK, SyncIo.read(env.scheduler(), a, (long) b * BLOCK, buf.segment()));
                        assertEquals(model[b], buf.segment().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0));
                        buf.release();
                    }
                }
            }
        }
    }

    @Test
    void syncReadErrorIsRebuiltAndWrittenBack() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3"};
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, names);
            create(env, disks, RaidLevel.RAID5, false, names);
            try (MdArray a = assemble(disks, false, names)) {
                long[] model = new long[(int) (a.sizeBytes() / BLOCK)];
                writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                long dataOff = sbOf(env, disks, "d2").dataOffsetSectors() * 512;
                // a bad block (it fails every read): the sync's window read fails, the retry in pieces
                // finds the block, which is rebuilt and written back (a one-time error would read
                // fine on the retry, and nothing is rebuilt then)
                disks.faults("d2").addRule(FaultRule.error(dataOff + (2 << 20), BLOCK, Bio.Op.READ));
                Member d2 = MemberManager.find(a, "d2");
                var engine = a.redundancy().engine();
                assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
                awaitIdle(a);
                assertTrue(d2.readErrors() > 0, "the check read d2 and failed there");
                assertTrue(d2.correctedReads() > 0, "the block was rebuilt and written back");
                assertTrue(d2.isInSync(), "a corrected read error does not fail the member");
                disks.faults("d2").clearRules();
                assertEquals(0, checkParity(a));
                verify(env, a, model);
            }
        }
    }
}

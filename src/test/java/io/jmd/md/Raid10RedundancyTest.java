package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.block.FaultRule;
import io.jmd.block.SyncIo;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.FeatureBits;
import io.jmd.md.format.Raid10Layout;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.Superblock1Layout;
import io.jmd.md.raid10.Raid10Geometry;
import io.jmd.md.resync.SyncAction;
import io.jmd.md.resync.SyncStatus;
import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static io.jmd.md.Raid1ArrayTest.BLOCK;
import static io.jmd.md.Raid1ArrayTest.verify;
import static io.jmd.md.Raid1ArrayTest.writeStream;
import static io.jmd.md.RedundancyTest.assemble;
import static io.jmd.md.RedundancyTest.await;
import static io.jmd.md.RedundancyTest.divergeWithASlowResyncRead;
import static io.jmd.md.RedundancyTest.awaitIdle;
import static io.jmd.md.RedundancyTest.rawWrite;
import static io.jmd.md.RedundancyTest.sbOf;
import static io.jmd.md.RedundancyTest.snapshot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RAID10's redundancy machinery on injected storage, for near, far and offset layouts: the
 * bitmap and online resync of only the dirty chunks after a crash, recovery onto an added spare
 * under writes, re-add following the bitmap, check/repair, a read error repaired from another
 * copy, and a recovery resuming from its recovery_offset (member sectors, as md) after a restart.
 */
final class Raid10RedundancyTest {
    static final long DISK_BYTES = RedundancyTest.DISK_BYTES;
    static final int BITMAP_CHUNK = RedundancyTest.BITMAP_CHUNK;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    /** A layout on some members; {@code chunkKib} small enough that windows span many chunks. */
    record Shape(String name, Raid10Layout layout, int devices, int chunkKib) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Shape> shapes() {
        return Stream.of(
            new Shape("n2x4", Raid10Layout.near(2), 4, 512),
            new Shape("f2x4", Raid10Layout.far(2), 4, 64),
            new Shape("o2x4", Raid10Layout.offset(2), 4, 64),
            new Shape("n2x3", Raid10Layout.near(2), 3, 64));
    }

    static String[] names(int n, String suffix) {
        String[] out = new String[n];
        for (int i = 0; i < n; i++) {
            out[i] = (char) ('a' + i) + suffix;
        }
        return out;
    }

    static void create(Env env, Disks disks, Shape s, boolean bitmap, String... names) throws Exception {
        List<BlockDevice> devs = new ArrayList<>();
        for (String n : names) {
            devs.add(disks.opener().open(n, false));
        }
        try {
            CreateOptions o = CreateOptions.defaults(RaidLevel.RAID10, names.length).withLayout(s.layout().word())
                .withChunkKib(s.chunkKib()).withInternalBitmap(bitmap);
            if (bitmap) {
                o = o.withBitmapChunkBytes(BITMAP_CHUNK);
            }
            Creator.create(env, devs, new Creator.Request(o, Optional.of("test"), "r10", 0, false, true, false));
        } finally {
            devs.forEach(BlockDevice::close);
        }
    }

    /** Disks for every member of {@code s}, named a, b, ..., and the array created on them. */
    static String[] createLive(Env env, Disks disks, Shape s, boolean bitmap) throws Exception {
        String[] live = names(s.devices(), "");
        disks.add(DISK_BYTES, live);
        create(env, disks, s, bitmap, live);
        return live;
    }

    /** Adds a disk "spare"; returns the members as they are once it holds {@code slot}. */
    static String[] addSpareFor(Disks disks, String[] live, int slot) {
        disks.add(DISK_BYTES, "spare");
        String[] after = live.clone();
        after[slot] = "spare";
        return after;
    }

    /** {@code count} random block writes, 8 in flight, recorded in {@code model}. */
    static void writes(Env env, MdArray a, long[] model, int count) throws Exception {
        writeStream(env, a, model, count, 8, n -> { }, new AtomicInteger());
    }

    /** Writes block {@code block} filled with {@code version} and records it in {@code model}. */
    static void writeBlock(Env env, MdArray a, long[] model, int block, long version) {
        Buffer buf = env.buffers().allocate(BLOCK);
        Raid1ArrayTest.fill(buf.segment(), version);
        assertEquals(Errno.OK, SyncIo.write(env.scheduler(), a, (long) block * BLOCK, buf.segment(), 0));
        buf.release();
        model[block] = version;
    }

    static void failAndRemove(MdArray a, String name) throws MdException {
        MemberManager.fail(a, name);
        MemberManager.remove(a, name);
    }

    /** Lifts a test's slow sync limits and waits until no sync work is left. */
    static void unthrottleAndAwaitIdle(MdArray a) throws InterruptedException {
        a.redundancy().engine().throttle().setLimits(1_000, 10_000_000);
        awaitIdle(a);
    }

    /** Requests {@code action}, which must be accepted, and waits until no sync work is left. */
    static void runToIdle(MdArray a, SyncAction action) throws InterruptedException {
        assertEquals(Errno.OK, a.redundancy().engine().request(action));
        awaitIdle(a);
    }

    static void awaitSyncRunning(MdArray a, String what) throws InterruptedException {
        await(what + " running", () -> a.redundancy().engine().status() != null);
    }

    /**
     * Waits until no sync work is left; the last sync to finish was {@code action} and synced
     * {@code chunks} chunks. Returns its status.
     */
    static SyncStatus awaitIdleAfter(MdArray a, SyncAction action, long chunks, String message) throws InterruptedException {
        awaitIdle(a);
        SyncStatus last = a.redundancy().engine().lastFinished();
        assertEquals(action, last.action());
        assertEquals(chunks, last.syncedChunks(), message);
        return last;
    }

    /** Assembles {@code names} again: the array is optimal and holds {@code model}. */
    static void assertOptimalWithDataAfterARestart(Env env, Disks disks, long[] model, String... names) throws Exception {
        try (MdArray again = assemble(disks, false, names)) {
            assertTrue(again.personality().isOptimal(), again.personality().status());
            verify(env, again, model);
        }
    }

    static Raid10Geometry geometry(Superblock1 sb) {
        return new Raid10Geometry(sb.raidDisks(), sb.layout(), sb.chunkSectors(), sb.sizeSectors());
    }

    /** The disk holding each slot, from the superblocks on {@code names}. */
    static String[] bySlot(Env env, Disks disks, String... names) throws Exception {
        Superblock1 first = sbOf(env, disks, names[0]);
        String[] out = new String[first.raidDisks()];
        for (String n : names) {
            Superblock1 sb = sbOf(env, disks, n);
            int role = first.devRoles().role(sb.devNumber());
            if (role >= 0 && role < out.length) {
                out[role] = n;
            }
        }
        return out;
    }

    /** Every copy of every chunk of the array holds the same bytes. */
    static void assertCopiesEqual(Env env, Disks disks, String... names) throws Exception {
        String[] slots = bySlot(env, disks, names);
        Superblock1 sb = sbOf(env, disks, names[0]);
        Raid10Geometry g = geometry(sb);
        int chunkBytes = g.chunkSectors() * 512;
        for (long at = 0; at < g.arraySectors() * 512; at += chunkBytes) {
            Raid10Geometry.Copy[] copies = g.copiesOf(at / 512);
            byte[] first = null;
            for (Raid10Geometry.Copy c : copies) {
                String disk = slots[c.device()];
                byte[] bytes = disks.raw(disk, sbOf(env, disks, disk).dataOffsetSectors() * 512 + c.sector() * 512, chunkBytes);
                if (first == null) {
                    first = bytes;
                } else {
                    assertArrayEquals(first, bytes, "copies of array byte " + at + " differ (on " + disk + ")");
                }
            }
        }
    }

    /** A copy's place: its disk and byte offset on it. */
    record Place(String disk, long at) {
    }

    /** Where the copies of array byte {@code at} lie, in copy order. */
    static List<Place> copiesOf(Env env, Disks disks, long at, String... names) throws Exception {
        String[] slots = bySlot(env, disks, names);
        Raid10Geometry g = geometry(sbOf(env, disks, names[0]));
        List<Place> out = new ArrayList<>();
        for (Raid10Geometry.Copy c : g.copiesOf(at / 512)) {
            String disk = slots[c.device()];
            out.add(new Place(disk, sbOf(env, disks, disk).dataOffsetSectors() * 512 + c.sector() * 512 + at % 512));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void crashResyncsOnlyTheDirtyChunksWhileServing(Shape s) throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            String[] live = createLive(env, disks, s, true);
            String[] image = names(s.devices(), "2");
            long[] model;
            try (MdArray a = assemble(disks, false, live)) {
                a.redundancy().bitmap().setDaemonSleepNanos(60_000_000_000L); // no clearing before the "crash"
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                for (int chunk : new int[] {2, 5}) {
                    for (int k = 0; k < 4; k++) {
                        writeBlock(env, a, model, (int) ((long) chunk * BITMAP_CHUNK / BLOCK) + k, ((long) chunk << 32) | k);
                    }
                }
                // a write to chunk 9 is in flight (held on its way to every copy) at the power cut
                Place inFlight = copiesOf(env, disks, 9L * BITMAP_CHUNK, live).get(0);
                disks.holdFrom = inFlight.at();
                disks.holdTo = inFlight.at() + BLOCK;
                disks.holdNanos = Disks.UNTIL_RELEASED; // a timed hold could land before the snapshots
                Buffer held = env.buffers().allocate(BLOCK);
                held.segment().fill((byte) 9);
                io.jmd.sync.Completion heldDone = new io.jmd.sync.Completion(env.scheduler(), "held");
                a.submit(Bio.write(9L * BITMAP_CHUNK, held.segment(), 0, null, bio -> heldDone.complete(bio.status())));
                await("the held write's bit", () -> a.redundancy().bitmap().dirtyChunks() == 3);
                await("the write held", () -> disks.heldCount() > 0);
                for (int i = 0; i < live.length; i++) {
                    snapshot(env, disks, live[i], image[i]);
                }
                disks.release();
                heldDone.await();
                held.release();
            }
            assertFalse(sbOf(env, disks, image[0]).isClean(), "the images are of a dirty array");
            // the copies differ in a dirty chunk: a write reached the first copy only before the crash
            int torn = (int) (5L * BITMAP_CHUNK / BLOCK) + 8;
            model[torn] = 0x7070L << 32 | torn;
            List<Place> copies = copiesOf(env, disks, (long) torn * BLOCK, image);
            Buffer t = env.buffers().allocate(BLOCK);
            Raid1ArrayTest.fill(t.segment(), model[torn]);
            assertEquals(Errno.OK, SyncIo.write(env.scheduler(), disks.medium(copies.get(0).disk()), copies.get(0).at(),
                t.segment(), 0));
            t.release();
            rawWrite(env, disks, copies.get(1).disk(), copies.get(1).at(), BLOCK, 0x33);
            try (MdArray a = assemble(disks, false, image)) {
                assertTrue(a.notes().stream().anyMatch(n -> n.contains("only the 3 of")), a.notes().toString());
                SyncStatus last = awaitIdleAfter(a, SyncAction.RESYNC, 3, "only the dirty chunks were resynced");
                assertEquals(a.redundancy().bitmap().chunks() - 3, last.skippedChunks());
                verify(env, a, model);
            }
            assertCopiesEqual(env, disks, image);
            assertEquals(Superblock1Layout.MAX_SECTOR, sbOf(env, disks, image[1]).resyncOffsetSectors());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void dirtyArrayWithoutBitmapResyncsEverythingOnlineAndServesMeanwhile(Shape s) throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            String[] live = createLive(env, disks, s, false);
            // the second copy of array byte 3M differs, as after a crash
            for (long at = 3 << 20; at < (4 << 20); at += BLOCK) {
                Place second = copiesOf(env, disks, at, live).get(1);
                rawWrite(env, disks, second.disk(), second.at(), BLOCK, 0x5a);
            }
            disks.markNeedsFullResync(live);
            try (MdArray a = assemble(disks, false, live)) {
                a.redundancy().engine().throttle().setLimits(1, 4_000); // ~4 MB/s: the resync takes a few seconds
                long[] model = new long[(int) (a.sizeBytes() / BLOCK)];
                awaitSyncRunning(a, "resync");
                writes(env, a, model, 300);
                assertTrue(a.needsResync(), "still resyncing while the writes ran");
                unthrottleAndAwaitIdle(a);
                verify(env, a, model);
            }
            assertCopiesEqual(env, disks, live);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void failedMemberIsReplacedByAnAddedSpareWhileWritesGoOnAndAgainAfterARestart(Shape s) throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            String[] live = createLive(env, disks, s, true);
            String[] after = addSpareFor(disks, live, 1);
            long[] model;
            try (MdArray a = assemble(disks, false, live)) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writes(env, a, model, 400);
                assertTrue(MemberManager.fail(a, live[1]).contains("faulty"));
                writes(env, a, model, 200);
                assertTrue(MemberManager.remove(a, live[1]).contains("removed"));
                a.redundancy().engine().throttle().setLimits(1, 8_000);
                assertTrue(MemberManager.add(a, "spare", false).startsWith("added"));
                awaitSyncRunning(a, "recovery");
                assertTrue(MdStat.format(List.of(a)).contains("recovery"), MdStat.format(List.of(a)));
                writes(env, a, model, 300);
                unthrottleAndAwaitIdle(a);
                assertTrue(a.personality().isOptimal(), a.personality().status());
                List<String> events = a.redundancy().eventLog().since(0).stream().map(ArrayEvents.Event::name).toList();
                assertTrue(events.containsAll(List.of("Fail", "RebuildStarted", "RebuildFinished", "SpareActive")), events.toString());
                verify(env, a, model);
            }
            assertCopiesEqual(env, disks, after);
            Superblock1 sp = sbOf(env, disks, "spare");
            assertFalse(sp.hasFeature(FeatureBits.RECOVERY_OFFSET));
            assertEquals(1, sp.devRoles().role(sp.devNumber()), "the spare holds slot 1");
            assertOptimalWithDataAfterARestart(env, disks, model, after);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void hotSpareReplacesAMemberThatFailsUnderWritesByItself(Shape s) throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            String[] live = createLive(env, disks, s, true);
            String[] after = addSpareFor(disks, live, 0);
            long[] model;
            try (MdArray a = assemble(disks, false, live)) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writes(env, a, model, 200);
                assertTrue(MemberManager.add(a, "spare", false).startsWith("added"));
                assertEquals(MemberState.SPARE, MemberManager.find(a, "spare").state(), "an optimal array keeps it as a spare");
                // the first member dies: writes fail it (acknowledged once that is on disk) and the
                // spare takes its slot and is rebuilt while the writes go on
                disks.faults(live[0]).failDevice();
                writes(env, a, model, 200);
                awaitIdle(a);
                assertEquals(MemberState.FAULTY, MemberManager.find(a, live[0]).state());
                assertEquals(MemberState.IN_SYNC, MemberManager.find(a, "spare").state(), "the hot spare took its place");
                assertTrue(a.personality().isOptimal(), a.personality().status());
                verify(env, a, model);
                disks.faults(live[0]).restoreDevice();
            }
            assertCopiesEqual(env, disks, after);
            assertOptimalWithDataAfterARestart(env, disks, model, after);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void reAddedMemberIsRebuiltOnlyWhereTheBitmapSaysItMissedWrites(Shape s) throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            String[] live = createLive(env, disks, s, true);
            long[] model;
            try (MdArray a = assemble(disks, false, live)) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writes(env, a, model, 200);
                await("bits cleared", () -> a.redundancy().bitmap().dirtyChunks() == 0);
                failAndRemove(a, live[2]);
                for (int chunk : new int[] {1, 4}) {
                    writeBlock(env, a, model, (int) ((long) chunk * BITMAP_CHUNK / BLOCK), 0xabcL << 32 | chunk);
                }
                Thread.sleep(200);
                assertEquals(2, a.redundancy().bitmap().dirtyChunks(), "degraded writes keep their bits");
                assertTrue(MemberManager.add(a, live[2], true).startsWith("re-added"));
                awaitIdleAfter(a, SyncAction.RECOVER, 2, "only the chunks written while it was out");
                verify(env, a, model);
            }
            assertCopiesEqual(env, disks, live);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void checkFindsAnInjectedMismatchRepairFixesItAndCheckThenReportsZero(Shape s) throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            String[] live = createLive(env, disks, s, false);
            try (MdArray a = assemble(disks, false, live)) {
                RedundancyTest.write(env, a, 0, 4 << 20, 0x11);
                List<Place> copies = copiesOf(env, disks, (2 << 20) + 4096, live);
                Place first = copies.get(0);
                Place second = copies.get(1);
                rawWrite(env, disks, second.disk(), second.at(), 4096, 0x66);
                var engine = a.redundancy().engine();
                runToIdle(a, SyncAction.CHECK);
                assertEquals(128, engine.mismatchSectors(), "one 64 KiB unit differs");
                assertNotEquals(Arrays.hashCode(disks.raw(first.disk(), first.at(), 4096)),
                    Arrays.hashCode(disks.raw(second.disk(), second.at(), 4096)), "check writes nothing");
                runToIdle(a, SyncAction.REPAIR);
                assertEquals(128, engine.mismatchSectors(), "repair counts what it fixed");
                runToIdle(a, SyncAction.CHECK);
                assertEquals(0, engine.mismatchSectors());
            }
            assertCopiesEqual(env, disks, live);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void interruptedRecoveryResumesFromItsCheckpointAfterARestart(Shape s) throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            String[] live = createLive(env, disks, s, false);
            String[] after = addSpareFor(disks, live, 1);
            long[] model;
            try (MdArray a = assemble(disks, false, live)) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writes(env, a, model, 300);
                failAndRemove(a, live[1]);
                a.redundancy().engine().throttle().setLimits(1, 2_000); // 2 MB/s: stopped part way
                MemberManager.add(a, "spare", false);
                Member sp = MemberManager.find(a, "spare");
                await("recovery past a checkpoint", () -> sp.recoveryOffsetBytes() > 0);
            }
            Superblock1 sp = sbOf(env, disks, "spare");
            assertTrue(sp.hasFeature(FeatureBits.RECOVERY_OFFSET), "the spare records how far it was rebuilt");
            assertTrue(sp.recoveryOffsetSectors() > 0);
            assertTrue(sp.recoveryOffsetSectors() <= geometry(sp).devSectors(), "recovery_offset counts member sectors");
            assertEquals(1, sp.devRoles().role(sp.devNumber()));
            try (MdArray a = assemble(disks, true, after)) {
                Member m = MemberManager.find(a, "spare");
                assertEquals(MemberState.RECOVERING, m.state());
                await("recovery resumed", () -> a.redundancy().engine().status() != null || m.isInSync());
                awaitIdle(a);
                assertTrue(m.isInSync());
                verify(env, a, model);
            }
            assertCopiesEqual(env, disks, after);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void recoveryOntoASparseSpareWritesHolesAsZeroesAndKeepsItSparse(Shape s) throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            String[] live = createLive(env, disks, s, false);
            String[] after = addSpareFor(disks, live, 1);
            long[] model;
            try (MdArray a = assemble(disks, false, live)) {
                model = new long[(int) (a.sizeBytes() / BLOCK)];
                writes(env, a, model, 10);
                failAndRemove(a, live[1]);
                long before = disks.medium("spare").allocatedBytes();
                MemberManager.add(a, "spare", false);
                awaitIdle(a);
                long allocated = disks.medium("spare").allocatedBytes() - before;
                // the sync copies whole raid10 chunks that hold data: 10 blocks, at most 10 chunks (or
                // the medium's 64 KiB allocation unit), far less than the member
                long bound = 10L * Math.max(s.chunkKib(), 64) * 1024;
                assertTrue(bound < DISK_BYTES / 2, "the test's bound means something");
                assertTrue(allocated <= bound, "the spare got " + allocated + " bytes allocated for 10 blocks");
                assertTrue(allocated > 0, "the spare got the blocks it holds copies of");
                verify(env, a, model);
            }
            assertCopiesEqual(env, disks, after);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void readErrorIsRepairedFromAnotherCopyAndAMemberThatKeepsFailingIsFailed(Shape s) throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            String[] live = createLive(env, disks, s, false);
            try (MdArray a = assemble(disks, false, live)) {
                long[] model = new long[(int) (a.sizeBytes() / BLOCK)];
                writes(env, a, model, 300);
                Buffer buf = env.buffers().allocate(BLOCK);
                // a read of block 0 leaves its member's head at block 1: the next read stays there
                String disk = servingDisk(env, disks, a, 0, buf, live);
                Member m = MemberManager.find(a, disk);
                // a latent sector error there: the read fails, is served by another copy, and the
                // good data is written back and read again
                disks.faults(disk).addRule(FaultRule.error(copyOn(env, disks, BLOCK, disk, live), BLOCK, Bio.Op.READ).times(1));
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), a, BLOCK, buf.segment()));
                assertEquals(1, m.correctedReads(), "the read error was corrected by a rewrite");
                assertTrue(m.isInSync());
                assertEquals(model[1], buf.segment().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0));
                // a member whose rewrite does not take is failed (again a sequential read, elsewhere)
                long far = 100L * BLOCK;
                String disk2 = servingDisk(env, disks, a, far, buf, live);
                Member m2 = MemberManager.find(a, disk2);
                disks.faults(disk2).addRule(FaultRule.error(copyOn(env, disks, far + BLOCK, disk2, live), BLOCK, Bio.Op.READ,
                    Bio.Op.WRITE));
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), a, far + BLOCK, buf.segment()));
                assertEquals(MemberState.FAULTY, m2.state());
                assertEquals(model[101], buf.segment().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0));
                disks.faults(disk).clearRules();
                disk = disk2;
                buf.release();
                disks.faults(disk).clearRules();
                verify(env, a, model);
            }
        }
    }

    /**
     * A read fix must not run while a sync window over its block is in flight (md: a raid10 read
     * holds wait_barrier until it ends, fix included, so no resync window runs beside it). Here
     * the copies of a block differ, as after a crash; the resync window has read the first copy
     * (its read is slow to end) when that copy's first sector turns unreadable, and a client reads
     * the block. Its read-and-resync (the block is not resynced yet) takes that sector from the
     * second copy and writes the mix to both; if it ran beside the window, the window would then
     * write its older read of the first copy over the second, and the copies would differ after a
     * finished resync, the client having seen a version no copy holds whole.
     */
    @org.junit.jupiter.api.Test
    void readFixWaitsForTheSyncWindowOverItsBlock() throws Exception {
        Env env = jmd.env();
        Shape s = new Shape("n2x4", Raid10Layout.near(2), 4, 64);
        try (Disks disks = new Disks(env)) {
            String[] live = names(s.devices(), "");
            disks.add(DISK_BYTES, live);
            create(env, disks, s, false, live);
            long at = 3L << 20;
            List<Place> copies = copiesOf(env, disks, at, live);
            String firstDisk = copies.get(0).disk();
            long firstAt = copies.get(0).at();
            String secondDisk = copies.get(1).disk();
            long secondAt = copies.get(1).at();
            FaultRule slow = divergeWithASlowResyncRead(env, disks, firstDisk, firstAt, secondDisk, secondAt, live);
            try (MdArray a = assemble(disks, false, live)) {
                await("the resync window read the first copy", () -> slow.hits() == 1);
                disks.faults(firstDisk).addRule(FaultRule.error(firstAt, 512, Bio.Op.READ));
                byte[] seen = ParityArrayTest.read(env, a, at, BLOCK);
                awaitIdle(a);
                disks.faults(firstDisk).clearRules();
                assertArrayEquals(disks.raw(firstDisk, firstAt, BLOCK), disks.raw(secondDisk, secondAt, BLOCK),
                    "the copies differ after the resync");
                assertArrayEquals(seen, disks.raw(secondDisk, secondAt, BLOCK), "the client saw what no copy holds");
            }
            assertCopiesEqual(env, disks, live);
        }
    }

    /**
     * A resync window read the first copy of a block not resynced yet (the copies differ, as after
     * a crash), then the first copy's member failed: a client read of the block, which now has one
     * copy in sync, must not read the second copy beside that window, or it sees the second copy's
     * old value and the window then writes its read of the first copy over it: the next read, with
     * no write in between, returns something else. md: a raid10 read holds wait_barrier from its
     * start to its end, so it never runs beside a sync window of its region.
     */
    @org.junit.jupiter.api.Test
    void readOfABlockNotResyncedWaitsForTheSyncWindowAfterItsSourceFailed() throws Exception {
        Env env = jmd.env();
        Shape s = new Shape("n2x4", Raid10Layout.near(2), 4, 64);
        try (Disks disks = new Disks(env)) {
            String[] live = names(s.devices(), "");
            disks.add(DISK_BYTES, live);
            create(env, disks, s, false, live);
            long at = 3L << 20;
            List<Place> copies = copiesOf(env, disks, at, live);
            String firstDisk = copies.get(0).disk();
            long firstAt = copies.get(0).at();
            String secondDisk = copies.get(1).disk();
            long secondAt = copies.get(1).at();
            FaultRule slow = divergeWithASlowResyncRead(env, disks, firstDisk, firstAt, secondDisk, secondAt, live);
            try (MdArray a = assemble(disks, false, live)) {
                await("the resync window read the first copy", () -> slow.hits() == 1);
                MemberManager.fail(a, firstDisk);
                byte[] seen = ParityArrayTest.read(env, a, at, BLOCK);
                awaitIdle(a);
                byte[] again = ParityArrayTest.read(env, a, at, BLOCK);
                assertArrayEquals(seen, again, "a read of the block changed with no write in between");
                assertArrayEquals(seen, disks.raw(secondDisk, secondAt, BLOCK), "the client saw what the copy left does not hold");
            }
        }
    }

    /** Reads the block at array byte {@code at} and returns the disk that served it. */
    static String servingDisk(Env env, Disks disks, MdArray a, long at, Buffer buf, String... live) throws Exception {
        assertEquals(Errno.OK, SyncIo.read(env.scheduler(), a, at, buf.segment()));
        for (Place c : copiesOf(env, disks, at, live)) {
            if (MemberManager.find(a, c.disk()).headPositionBytes() == c.at() + BLOCK) {
                return c.disk();
            }
        }
        throw new AssertionError("no copy served array byte " + at);
    }

    /** The byte offset on {@code disk} of its copy of array byte {@code at}. */
    static long copyOn(Env env, Disks disks, long at, String disk, String... names) throws Exception {
        for (Place c : copiesOf(env, disks, at, names)) {
            if (c.disk().equals(disk)) {
                return c.at();
            }
        }
        throw new AssertionError(disk + " holds no copy of array byte " + at);
    }
}

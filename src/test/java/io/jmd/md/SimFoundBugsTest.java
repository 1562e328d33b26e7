package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.FaultRule;
import io.jmd.block.SyncIo;
import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression tests for engine bugs the simulator (io.jmd.sim) found, each reduced to a plain test
 * on real threads. The simulator seeds that found them are named with each.
 */
final class SimFoundBugsTest {
    static final long DISK_BYTES = 16L << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    /**
     * Found by {@code jmd sim --seed 84 --ops 1500}: only the writer that cleared CLEAN waited for the
     * "dirty" superblock; a second writer went straight to the members. A crash then left mirrors
     * that differed under superblocks that said clean, so assembly did not resync, and two reads of
     * one sector returned different data.
     */
    @Test
    void everyWriterWaitsUntilTheDirtySuperblockIsOnDisk() {
        WriteState w = new WriteState(true);
        assertTrue(w.enter(), "the first writer clears CLEAN");
        assertTrue(w.dirtyPending());
        assertFalse(w.enter(), "a second writer does not clear it again");
        assertTrue(w.dirtyPending(), "and must wait: the dirty superblock is not on disk");
        assertEquals(2, w.writers());
        assertFalse(w.tryMarkClean());
        w.dirtyRecorded();
        assertFalse(w.dirtyPending());
        assertEquals(2, w.writers());
        w.exit();
        w.exit();
        assertTrue(w.tryMarkClean());
    }

    @Test
    void secondWriterReachesNoMemberBeforeTheDirtySuperblock() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            addRaid1(disks);
            try (MdArray array = disks.assemble(false, "a", "b")) {
                long dataOffset = array.members().get(0).dataOffsetBytes();
                holdSuperblockWrites(disks, dataOffset); // superblock writes (below the data) are held
                AtomicInteger done = new AtomicInteger();
                Buffer one = env.buffers().allocate(4096);
                Buffer two = env.buffers().allocate(4096);
                one.segment().fill((byte) 1);
                two.segment().fill((byte) 2);
                Thread first = Thread.ofPlatform().start(() -> SyncIo.write(env.scheduler(), array, 0, one.segment(), 0));
                awaitHeld(disks); // the first writer is waiting for its dirty superblock
                Thread second = Thread.ofPlatform().start(() -> {
                    SyncIo.write(env.scheduler(), array, 1 << 20, two.segment(), 0);
                    done.incrementAndGet();
                });
                Thread.sleep(150); // time for a wrong second write to get out; the superblock stays held
                assertEquals(0, disks.raw("b", dataOffset + (1 << 20), 4096)[0], "the second write reached a member early");
                assertEquals(0, done.get());
                disks.release();
                first.join();
                second.join();
                assertEquals(2, disks.raw("b", dataOffset + (1 << 20), 4096)[0]);
                one.release();
                two.release();
            }
        }
    }

    /**
     * Found by the simulator (crash right after a member failure, the failed disk back at the next
     * assembly): a write that skipped a member already marked faulty was acknowledged before the
     * superblock recording the failure was on disk. After a crash the member came back with equal
     * events, was taken as in sync and could be the resync source: acknowledged, even FUA, writes
     * were lost. Such a write now ends only once the failure is recorded.
     */
    @Test
    void writeSkippingAnUnrecordedFailedMemberWaitsForTheRecord() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            addRaid1(disks);
            try (MdArray array = disks.assemble(false, "a", "b")) {
                Buffer buf = env.buffers().allocate(4096);
                buf.segment().fill((byte) 3);
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, 0, buf.segment(), 0)); // array dirty now
                long dataOffset = array.members().get(0).dataOffsetBytes();
                holdSuperblockWrites(disks, dataOffset); // superblock writes are held
                disks.faults("a").failDevice();
                AtomicInteger ended = new AtomicInteger();
                Thread first = Thread.ofPlatform().start(() -> {
                    SyncIo.write(env.scheduler(), array, 8192, buf.segment(), 0); // fails on a: a is marked faulty
                    ended.incrementAndGet();
                });
                awaitHeld(disks); // a is marked faulty, the record is on its way
                Thread second = Thread.ofPlatform().start(() -> {
                    SyncIo.write(env.scheduler(), array, 1 << 20, buf.segment(), Bio.FUA); // skips a
                    ended.incrementAndGet();
                });
                Thread.sleep(150); // time for a wrong early end; the record stays held
                assertEquals(0, ended.get(), "a write ended before the failure of a was recorded");
                disks.release();
                first.join();
                second.join();
                assertEquals(2, ended.get());
                buf.release();
            }
        }
    }

    /**
     * Found by {@code jmd sim --seed 77 --ops 10000}: a read spanning a bad sector on each member
     * (different sectors) failed on both and ended with EIO, though every sector was readable on
     * one of them. Now it is read a sector at a time from whichever member can.
     */
    @Test
    void readAroundADifferentBadSectorOnEachMember() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            addRaid1(disks);
            assertReadsAroundADifferentBadSectorOnEach(env, disks, "member");
        }
    }

    /**
     * Found by {@code jmd sim --seed 741 --ops 10000}: marking the array clean wrote "flush, clean
     * superblock" member by member, so a crash could leave the first member saying clean (and being
     * freshest) while the second's last writes were still in its volatile cache and were lost: the
     * next assembly skipped the resync and the mirrors differed. Now every member is flushed before
     * a clean superblock reaches any of them.
     */
    @Test
    void everyMemberIsFlushedBeforeAnyCleanSuperblock() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            addRaid1(disks);
            java.util.List<String> log = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            io.jmd.block.DeviceOpener logging = logging(disks, (name, bio) -> log.add(name + " " + bio.op + " " + bio.offsetBytes
                + (bio.fua() ? " FUA" : "")));
            long dataOffset;
            try (MdArray array = Assembler.assemble(env, logging, java.util.List.of("a", "b"), Assembler.Options.DEFAULT)) {
                dataOffset = array.members().get(0).dataOffsetBytes();
                Buffer buf = env.buffers().allocate(4096);
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, 0, buf.segment(), 0));
                buf.release();
                log.clear();
            } // close marks the array clean
            int firstSuperblock = -1;
            for (int i = 0; i < log.size() && firstSuperblock < 0; i++) {
                String[] f = log.get(i).split(" ");
                if (f[1].equals("WRITE") && Long.parseLong(f[2]) < dataOffset) {
                    firstSuperblock = i;
                }
            }
            assertTrue(firstSuperblock > 0, "a clean superblock was written: " + log);
            java.util.List<String> before = log.subList(0, firstSuperblock);
            assertTrue(before.contains("a FLUSH 0") && before.contains("b FLUSH 0"),
                "both members flushed before the first clean superblock: " + log);
        }
    }

    /**
     * Found by {@code jmd sim --seed 2 --ops 500}: the offline resync read only the first member; a
     * latent sector error there failed the resync and so the whole assembly, although the other
     * member held the data. Now the window comes from a member that can read it (sector by sector
     * when none can read it whole) and the first member is rewritten, repairing its bad sectors.
     */
    @Test
    void resyncReadsWhatTheFirstMemberCannotFromTheOthers() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            addRaid1(disks);
            long[] model;
            try (MdArray array = disks.assemble(false, "a", "b")) {
                model = new long[(int) (array.sizeBytes() / Raid1ArrayTest.BLOCK)];
                Raid1ArrayTest.writeStream(env, array, model, 300, 8, n -> { }, new AtomicInteger());
            }
            long dataOffset = RedundancyTest.sbOf(env, disks, "b").dataOffsetSectors() * 512;
            disks.markNeedsFullResync("a", "b");
            // Unreadable: a sector of the first member, and in another window one sector on each member.
            disks.faults("a").addRule(FaultRule.error(dataOffset + (1 << 20) + 4096, 512, Bio.Op.READ));
            disks.faults("a").addRule(FaultRule.error(dataOffset + (3 << 20) + 512, 512, Bio.Op.READ));
            disks.faults("b").addRule(FaultRule.error(dataOffset + (3 << 20) + 8192, 512, Bio.Op.READ));
            try (MdArray array = disks.assemble(false, "a", "b")) {
                array.redundancy().awaitSyncIdle(); // the resync runs online
                assertFalse(array.needsResync());
                clearFaults(disks, "a", "b");
                Raid1ArrayTest.verify(env, array, model);
            }
            int size = (int) (DISK_BYTES - dataOffset);
            assertArrayEquals(disks.raw("a", dataOffset, size), disks.raw("b", dataOffset, size), "mirrors agree");
        }
    }

    @Test
    void resyncFailsOnlyWhenNoMemberCanReadASector() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            addRaid1(disks);
            try (MdArray array = disks.assemble(false, "a", "b")) {
                Buffer data = env.buffers().allocate(8192);
                data.segment().fill((byte) 7);
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, 0, data.segment(), Bio.FUA));
                data.release();
            }
            long dataOffset = RedundancyTest.sbOf(env, disks, "b").dataOffsetSectors() * 512;
            disks.markNeedsFullResync("a", "b");
            disks.faults("a").addRule(FaultRule.error(dataOffset + 4096, 512, Bio.Op.READ));
            disks.faults("b").addRule(FaultRule.error(dataOffset + 4096, 512, Bio.Op.READ));
            // the resync runs online: it stops at the sector, reports it, and does not loop on it
            try (MdArray array = disks.assemble(false, "a", "b")) {
                array.redundancy().awaitSyncIdle();
                assertTrue(array.needsResync(), "the resync could not finish");
                String error = array.redundancy().engine().lastError();
                assertTrue(error != null && error.contains("no member can read array bytes 4096+512"), error);
                clearFaults(disks, "a", "b");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Found by the simulator driving raid5, raid6 and raid10 (jmd sim --level ...).

    private static io.jmd.md.format.CreateOptions raid10Near2(int disks) {
        return chunk64(io.jmd.md.format.RaidLevel.RAID10, disks);
    }

    /**
     * Found by {@code jmd sim --seed 7 --ops 1500 --level raid10} (and ten other seeds of 30): a
     * raid10 read spanning a bad sector on each copy (different sectors) failed on both and ended
     * with EIO, though every sector was readable on one of them (raid1 had the same bug: seed 77).
     * Now the piece is read a sector at a time from whichever copy can.
     */
    @Test
    void raid10ReadAroundADifferentBadSectorOnEachCopy() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            addArray(disks, raid10Near2(2), "a", "b"); // near=2 on 2 devices: member offset = array offset
            assertReadsAroundADifferentBadSectorOnEach(env, disks, "copy");
        }
    }

    /**
     * Found by {@code jmd sim --seed 32 --ops 1500 --level raid10} (raid5 and raid6 seeds too): a
     * member whose flush failed (it died under the flush) failed the array's flush with EIO, though
     * the array could lose it. Now a failed flush fails the member as a failed write does, and the
     * flush ends once that is recorded (raid1 always did so).
     */
    @Test
    void aMemberFailingAFlushIsFailedAndTheFlushSucceeds() throws Exception {
        for (io.jmd.md.format.CreateOptions options : java.util.List.of(raid10Near2(2),
                io.jmd.md.format.CreateOptions.defaults(io.jmd.md.format.RaidLevel.RAID5, 2).withChunkKib(64))) {
            Env env = jmd.env();
            try (Disks disks = new Disks(env)) {
                addArray(disks, options, "a", "b");
                try (MdArray array = disks.assemble(false, "a", "b")) {
                    Buffer buf = env.buffers().allocate(4096);
                    assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, 0, buf.segment(), 0));
                    buf.release();
                    disks.faults("b").addRule(FaultRule.error(0, 512, Bio.Op.FLUSH));
                    assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), array), options.level() + ": the array's flush");
                    Member b = array.members().stream().filter(m -> m.path().equals("b")).findFirst().orElseThrow();
                    assertEquals(MemberState.FAULTY, b.state(), options.level() + ": the member whose flush failed");
                    disks.faults("a").addRule(FaultRule.error(0, 512, Bio.Op.FLUSH));
                    assertEquals(Errno.EIO, SyncIo.flush(env.scheduler(), array), options.level()
                        + ": the last member that holds the data fails the flush");
                    clearFaults(disks, "a", "b");
                }
            }
        }
    }

    /**
     * Found by {@code jmd sim --seed 10 --ops 1500 --level raid10} (and seeds 17 and 35): after a
     * crash, where the resync had not been yet, the copies held different versions; a read took
     * the first copy's (reads there come from the first copy), then a latent error on that copy
     * made the resync and later reads take the second copy's: two reads of a sector nobody wrote
     * returned different values. Now such a read is written to the other copies before it ends,
     * as raid1's sync read.
     */
    @Test
    void raid10ReadWhereTheCopiesMayDifferIsWrittenToEveryCopy() {
        assertSimulatorPasses(io.jmd.md.format.RaidLevel.RAID10, 10, 17, 35);
    }

    /**
     * Found by {@code jmd sim --seed 408 --ops 1500 --level raid10} (offset=2 on two members): the
     * array failed a member (too many corrected reads), a write then went to the other copy alone
     * and was acknowledged before the failure was on disk; a crash brought the failed member back
     * in sync, and the resync copied its old data over the acknowledged write. raid10 now holds such
     * a write until the failure is recorded, as raid1 does.
     */
    @Test
    void aWriteThatMissesAFailedMemberEndsOnlyOnceTheFailureIsOnDisk() {
        assertSimulatorPasses(io.jmd.md.format.RaidLevel.RAID10, 408);
    }

    /**
     * Found by {@code jmd sim --seed 29 --ops 1500 --level raid5} (and half the failing raid5 and
     * raid6 seeds: reads of garbage or of another block's data): a sync window whose read failed
     * on one member (one latent sector) rebuilt that member's whole window (up to 4 MiB) from
     * parity and wrote it back. In the resync after a crash the parity of rows written at the crash
     * does not match their data yet, so data the member read fine was replaced by what that parity
     * said (here another block's content). Now the member is read again in pieces and only the
     * pieces it cannot read are rebuilt (md handles a sync read error per page), and only those
     * are written back: {@code jmd sim --seed 75 --ops 1500 --level raid5} found the first version
     * of the fix writing the member's whole window back, which for a parity member put its old
     * parity back over the pages the resync had just corrected.
     */
    @Test
    void resyncRebuildsOnlyThePiecesAMemberCannotRead() {
        assertSimulatorPasses(io.jmd.md.format.RaidLevel.RAID5, 29, 75);
    }

    /**
     * Found by {@code jmd sim --seed 130 --ops 1500 --level raid5}: after a clean stop with the
     * resync done, a row's parity did not match its data. A read that rebuilt a page its member
     * could not read wrote it back to the member (md's read-error rewrite) outside the sync
     * barrier; a sync window read the member while that write was in flight and computed the
     * row's parity from what the write then replaced. The rewrite now enters the barrier as a
     * normal write does, without waiting: with a window up there it is left to the window.
     */
    @Test
    void readErrorRewriteStaysOutOfSyncWindows() {
        assertSimulatorPasses(io.jmd.md.format.RaidLevel.RAID5, 130);
    }

    /**
     * Found by {@code jmd sim --seed 1150 --ops 6000 --level raid6}: a crash left the first member
     * one event ahead (its superblock written, the others' not yet); assembly took the others as
     * current, and the next update went to the first member first again: a crash then left it two
     * events ahead and every other member was left out as stale. Superblock updates now go to the
     * members that are behind first.
     */
    @Test
    void superblocksGoFirstToTheMembersThatAreBehind() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            addRaid1(disks);
            // b one event behind a, as a crash during a superblock update leaves it
            var dev = disks.opener().open("b", false);
            SuperblockIo.Found f = SuperblockIo.read(env, dev);
            assertEquals(0, SuperblockIo.write(env, dev, f.superblock().toBuilder().events(f.superblock().events() - 1).build(),
                f.location()));
            dev.close();
            java.util.List<String> log = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            io.jmd.block.DeviceOpener logging = logging(disks, (name, bio) -> {
                if (bio.op == Bio.Op.WRITE && bio.fua()) {
                    log.add(name);
                }
            });
            try (MdArray array = Assembler.assemble(env, logging, java.util.List.of("a", "b"), Assembler.Options.DEFAULT)) {
                log.clear();
                Buffer buf = env.buffers().allocate(4096);
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, 0, buf.segment(), 0)); // marks the array dirty
                buf.release();
                assertTrue(log.size() >= 2, "a superblock update was written: " + log);
                assertEquals(java.util.List.of("b", "a"), log.subList(0, 2), "the member behind gets it first");
            }
        }
    }

    /**
     * Found by {@code jmd sim --seed 10 --ops 1500 --level raid5} at md's grain (half of 40 raid5
     * and raid6 seeds failed so): a raid5 read spanning a bad page on its data member and another
     * bad page, elsewhere in the same stripe unit, on a member its rebuild reads, ended with EIO,
     * though every page can be read or rebuilt (md handles errors a 4 KiB page at a time:
     * STRIPE_SIZE). The stripe machine made a member that failed any read "missing for the rest of
     * the op" over its whole unit (up to 64 KiB), so two members counted as lost and raid5 gave up.
     * Now a failed read of several pages is read again a page at a time and only the pages that
     * fail count as lost, each page rebuilt from the members good for it.
     */
    @Test
    void raid5ReadAroundBadPagesOfTwoMembersInOneUnit() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            addArray(disks, chunk64(io.jmd.md.format.RaidLevel.RAID5, 3), "a", "b", "c");
            try (MdArray array = disks.assemble(false, "a", "b", "c")) {
                long dataOffset = array.members().get(0).dataOffsetBytes();
                byte[] data = pattern(128 * 1024, 1, 1);
                writeFua(env, array, 0, data); // row 0: both data chunks
                byte[] written = java.util.Arrays.copyOf(data, 24 * 1024);
                // left-symmetric, 3 members, row 0: data chunk 0 on a, chunk 1 on b, P on c
                disks.faults("a").addRule(FaultRule.error(dataOffset, 512, Bio.Op.READ)); // page 0 of a
                disks.faults("b").addRule(FaultRule.error(dataOffset + 5 * 4096, 512, Bio.Op.READ)); // page 5 of b
                assertReads(env, array, 0, written, "page 0 rebuilds from b and P; pages 1-5 read from a");
                clearFaults(disks, "a", "b");
            }
        }
    }

    /**
     * raid6 at md's grain: bad pages on four members of one stripe unit, at most two at any page
     * (two data; data and P; data and Q): every page of the row reads back, each rebuilt from the
     * members good at that page. Three bad at one page is more than raid6 covers: a read of that
     * page fails (as md's stripe of that page fails), reads of the unit's other pages do not (in
     * row 1: the stripe of row 0 caches what it read). Read-only, so no read-error rewrite changes
     * the members between the reads.
     */
    @Test
    void raid6ReadAroundBadPagesOfFourMembersInOneUnit() throws Exception {
        Env env = jmd.env();
        int chunk = 64 * 1024;
        String[] names = {"a", "b", "c", "d", "e"};
        try (Disks disks = new Disks(env)) {
            addArray(disks, chunk64(io.jmd.md.format.RaidLevel.RAID6, 5), names);
            byte[] row = pattern(2 * 3 * chunk, 7, 1); // rows 0 and 1
            long dataOffset;
            io.jmd.md.stripe.ParityLayout.Place[] place;
            try (MdArray array = disks.assemble(false, names)) {
                dataOffset = array.members().get(0).dataOffsetBytes();
                writeFua(env, array, 0, row);
                place = places(array, chunk, 6);
            }
            String d0 = names[place[0].dataMember()];
            String d1 = names[place[1].dataMember()];
            String d2 = names[place[2].dataMember()];
            String pd = names[place[0].pd()];
            String qd = names[place[0].qd()];
            try (MdArray array = Assembler.assemble(env, disks.opener(), java.util.List.of(names), new Assembler.Options(false, true))) {
                badPage(disks, d0, dataOffset, 0);
                badPage(disks, d2, dataOffset, 0); // page 0: two data blocks lost
                badPage(disks, d1, dataOffset, 3);
                badPage(disks, pd, dataOffset, 3); // page 3: data and P
                badPage(disks, d1, dataOffset, 7);
                badPage(disks, qd, dataOffset, 7); // page 7: data and Q
                assertReads(env, array, 0, java.util.Arrays.copyOf(row, 3 * chunk), "every page has two members lost at most");

                // row 1 (member bytes chunk..2*chunk): page 9 bad on its first two data members and Q
                long row1 = dataOffset + chunk;
                badPage(disks, names[place[3].dataMember()], row1, 9);
                badPage(disks, names[place[4].dataMember()], row1, 9);
                badPage(disks, names[place[3].qd()], row1, 9);
                long r1 = 3L * chunk; // row 1's first array byte
                MemorySegmentHolder page9 = new MemorySegmentHolder(env, 4096);
                assertEquals(Errno.EIO, SyncIo.read(env.scheduler(), array, r1 + 9 * 4096, page9.segment()), "page 9 of chunk 0: three members lost");
                assertEquals(Errno.EIO, SyncIo.read(env.scheduler(), array, r1 + chunk + 9 * 4096, page9.segment()), "page 9 of chunk 1 too");
                page9.release();
                assertReads(env, array, r1 + 10 * 4096, java.util.Arrays.copyOfRange(row, (int) r1 + 10 * 4096, (int) r1 + 16 * 4096),
                    "pages 10-15 of chunk 0");
                assertReads(env, array, r1 + chunk, java.util.Arrays.copyOfRange(row, (int) r1 + chunk, (int) r1 + chunk + 9 * 4096),
                    "pages 0-8 of chunk 1");
                assertReads(env, array, r1 + 2 * chunk, java.util.Arrays.copyOfRange(row, (int) r1 + 2 * chunk, (int) r1 + 3 * chunk),
                    "chunk 2 reads from its member");
                clearFaults(disks, names);
            }
        }
    }

    /**
     * A write's reads at md's grain: raid5 with a bad page on two data members at different pages
     * of one unit, a write of a whole third data block plans reconstruct-write, finds the bad
     * pages, and writes by read-modify-write instead (its reads avoid them); before, the two
     * members counted as lost for the whole unit and the write failed with EIO.
     */
    @Test
    void raid5WriteAroundBadPagesOfTwoMembersInOneUnit() throws Exception {
        Env env = jmd.env();
        int chunk = 64 * 1024;
        String[] names = {"a", "b", "c", "d"};
        try (Disks disks = new Disks(env)) {
            addArray(disks, chunk64(io.jmd.md.format.RaidLevel.RAID5, 4), names);
            byte[] row = pattern(3 * chunk, 5, 1);
            Buffer buf = bufferOf(env, row);
            long dataOffset;
            String d0;
            String d1;
            try (MdArray array = disks.assemble(false, names)) {
                dataOffset = array.members().get(0).dataOffsetBytes();
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, 0, buf.segment(), Bio.FUA)); // row 0
                io.jmd.md.stripe.ParityLayout.Place[] place = places(array, chunk, 2);
                d0 = names[place[0].dataMember()];
                d1 = names[place[1].dataMember()];
            }
            // assembled again: nothing cached, so rmw (old data 2 and P: 32 pages) reads no fewer
            // pages than rcw (data 0 and 1: 32 pages) and rcw is planned first
            try (MdArray array = disks.assemble(false, names)) {
                badPage(disks, d0, dataOffset, 0);
                badPage(disks, d1, dataOffset, 5);
                for (int i = 2 * chunk; i < 3 * chunk; i++) {
                    row[i] = (byte) (i / 512 * 3 + 2);
                }
                buf.segment().copyFrom(java.lang.foreign.MemorySegment.ofArray(row));
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, 2 * chunk, buf.segment().asSlice(2 * chunk, chunk), Bio.FUA),
                    "data block 2 written, parity from the pages that can be read");
                clearFaults(disks, names);
                assertReads(env, array, 0, row, "the whole row");
                assertEquals(0, ((io.jmd.md.stripe.StripeEngine) array.personality()).checkParity(), "parity matches the data");
            } finally {
                buf.release();
            }
        }
    }

    /**
     * Two writes served as one batch on a raid6 stripe with two members missing: the pages of one
     * cannot be computed (a third member cannot read one of them), the pages of the other can. md
     * fails only the bios on the lost page's stripe; jmd failed the whole batch (found by
     * {@code jmd sim --seed 86 --ops 1500 --level raid6} once faults were counted per page: the
     * other write ended with EIO although each of its pages had a member to spare). The two
     * writes queue behind a degraded read whose member reads are slow, so they meet in one batch.
     */
    @Test
    void raid6BatchFailsOnlyTheWriteOnALostPage() throws Exception {
        Env env = jmd.env();
        int chunk = 64 * 1024;
        String[] names = {"a", "b", "c", "d", "e"};
        try (Disks disks = new Disks(env)) {
            addArray(disks, chunk64(io.jmd.md.format.RaidLevel.RAID6, 5), names);
            byte[] row = pattern(3 * chunk, 11, 1);
            long dataOffset;
            io.jmd.md.stripe.ParityLayout.Place[] place;
            try (MdArray array = disks.assemble(false, names)) {
                dataOffset = array.members().get(0).dataOffsetBytes();
                writeFua(env, array, 0, row); // row 0
                place = places(array, chunk, 3);
            }
            String pd = names[place[0].pd()];
            String qd = names[place[0].qd()];
            String d2 = names[place[2].dataMember()];
            // data members 0 and 1 are missing
            try (MdArray array = disks.assemble(true, d2, pd, qd)) {
                badPage(disks, pd, dataOffset, 5); // page 5: data 0, data 1 and P lost
                disks.faults(qd).addRule(FaultRule.delay(dataOffset + 8 * 4096, 4096, 300_000_000L, Bio.Op.READ));
                MemorySegmentHolder blocker = new MemorySegmentHolder(env, 4096);
                Thread reader = Thread.ofPlatform().start(() -> SyncIo.read(env.scheduler(), array, 8 * 4096, blocker.segment()));
                Thread.sleep(100); // the degraded read of data 0's page 8 waits for Q
                Buffer one = env.buffers().allocate(2 * 4096);
                Buffer five = env.buffers().allocate(4096);
                one.segment().fill((byte) 0x5a);
                five.segment().fill((byte) 0x6b);
                int[] status = new int[2];
                Thread w1 = Thread.ofPlatform().start(() -> status[0] = SyncIo.write(env.scheduler(), array, 2L * chunk, one.segment(), 0));
                Thread.sleep(20);
                Thread w2 = Thread.ofPlatform().start(() -> status[1] = SyncIo.write(env.scheduler(), array, 2L * chunk + 5 * 4096, five.segment(), 0));
                reader.join();
                w1.join();
                w2.join();
                assertEquals(Errno.OK, status[0], "data 2's pages 0-1: two members lost there, within raid6");
                assertEquals(Errno.EIO, status[1], "data 2's page 5: three lost there (data 0's page 5 cannot be rebuilt)");
                assertReads(env, array, 2L * chunk, one.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), "data 2's pages 0-1");
                blocker.release();
                one.release();
                five.release();
                clearFaults(disks, names);
            }
        }
    }

    private static void badPage(Disks disks, String name, long dataOffset, int page) {
        disks.faults(name).addRule(FaultRule.error(dataOffset + page * 4096L + 1024, 512, Bio.Op.READ));
    }

    /**
     * md's read-error correction at its grain: a data member that cannot read one page of a unit
     * gets that page, rebuilt, written back and read again (R5_ReadError, R5_ReWrite), and nothing
     * else of the unit; the correction counts once (one page). The bad sector here fails twice (the
     * direct read, and the stripe's read of that page) and then reads fine, as a remapped sector.
     */
    @Test
    void readErrorRewritesOnlyThePageThatFailed() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            addArray(disks, chunk64(io.jmd.md.format.RaidLevel.RAID5, 3), "a", "b", "c");
            try (MdArray array = disks.assemble(false, "a", "b", "c")) {
                Member a = array.members().get(0);
                long dataOffset = a.dataOffsetBytes();
                byte[] data = pattern(128 * 1024, 1, 3);
                writeFua(env, array, 0, data);
                int corrected = a.correctedReads();
                // data chunk 0 of row 0 is on a (left-symmetric, 3 members)
                disks.faults("a").addRule(FaultRule.error(dataOffset + 2 * 4096 + 512, 512, Bio.Op.READ).times(2));
                FaultRule pageWrites = disks.faults("a").addRule(FaultRule.delay(dataOffset + 2 * 4096, 4096, 1, Bio.Op.WRITE));
                FaultRule before = disks.faults("a").addRule(FaultRule.delay(dataOffset, 2 * 4096, 1, Bio.Op.WRITE));
                FaultRule after = disks.faults("a").addRule(FaultRule.delay(dataOffset + 3 * 4096, 61 * 4096, 1, Bio.Op.WRITE));
                assertReads(env, array, 0, java.util.Arrays.copyOf(data, 64 * 1024), "data chunk 0");
                assertEquals(1, pageWrites.hits(), "the page that failed is written back");
                assertEquals(0, before.hits() + after.hits(), "nothing else of the unit is");
                assertEquals(corrected + 1, a.correctedReads(), "one page corrected");
                assertTrue(a.isInSync(), "the read back was fine: a stays in the array");
                disks.faults("a").clearRules();
            }
        }
    }

    private static void addRaid1(Disks disks) throws Exception {
        disks.add(DISK_BYTES, "a", "b");
        disks.createRaid1("a", "b");
    }

    private static void addArray(Disks disks, io.jmd.md.format.CreateOptions options, String... names) throws Exception {
        disks.add(DISK_BYTES, names);
        disks.create(options, names);
    }

    private static io.jmd.md.format.CreateOptions chunk64(io.jmd.md.format.RaidLevel level, int disks) {
        return io.jmd.md.format.CreateOptions.defaults(level, disks).withChunkKib(64);
    }

    /**
     * Writes to member bytes below {@code dataOffset} (superblocks) stay off the disks until {@link
     * Disks#release()}: a timed hold could end before the test looked, on a slow machine.
     */
    private static void holdSuperblockWrites(Disks disks, long dataOffset) {
        disks.holdFrom = 0;
        disks.holdTo = dataOffset;
        disks.holdNanos = Disks.UNTIL_RELEASED;
    }

    /** Waits until a superblock write is held. */
    private static void awaitHeld(Disks disks) throws InterruptedException {
        RedundancyTest.await("a superblock write held", () -> disks.heldCount() > 0);
    }

    private static void clearFaults(Disks disks, String... names) {
        for (String n : names) {
            disks.faults(n).clearRules();
        }
    }

    /**
     * Over a two-member array on disks a and b (member offset = array offset): a read spanning a
     * bad sector on each member, at different sectors, reads every sector from whichever {@code
     * copy} can; with a sector bad on both, it fails.
     */
    private static void assertReadsAroundADifferentBadSectorOnEach(Env env, Disks disks, String copy) throws Exception {
        try (MdArray array = disks.assemble(false, "a", "b")) {
            long dataOffset = array.members().get(0).dataOffsetBytes();
            byte[] written = pattern(8192, 1, 1);
            Buffer buf = bufferOf(env, written);
            assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, 65536, buf.segment(), 0));
            disks.faults("a").addRule(FaultRule.error(dataOffset + 65536 + 1024, 512, Bio.Op.READ));
            disks.faults("b").addRule(FaultRule.error(dataOffset + 65536 + 6144, 512, Bio.Op.READ));
            buf.segment().fill((byte) 0);
            assertEquals(Errno.OK, SyncIo.read(env.scheduler(), array, 65536, buf.segment()));
            assertArrayEquals(written, buf.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            disks.faults("b").addRule(FaultRule.error(dataOffset + 65536 + 1024, 512, Bio.Op.READ));
            assertEquals(Errno.EIO, SyncIo.read(env.scheduler(), array, 65536, buf.segment()),
                "a sector no " + copy + " can read is an error");
            clearFaults(disks, "a", "b");
            buf.release();
        }
    }

    /** The simulator runs each seed (1500 operations) on {@code level} and finds nothing wrong. */
    private static void assertSimulatorPasses(io.jmd.md.format.RaidLevel level, long... seeds) {
        for (long seed : seeds) {
            io.jmd.sim.SimRun.Result r = io.jmd.sim.SimRun.run(io.jmd.sim.SimConfig.of(seed, 1500, level));
            assertTrue(r.ok(), r::failure);
        }
    }

    /** Opens the disks, showing {@code onSubmit} each bio (and the disk's name) before it goes on. */
    private static io.jmd.block.DeviceOpener logging(Disks disks, BiConsumer<String, Bio> onSubmit) {
        return (name, ro) -> new Disks.KeepOpen(disks.opener().open(name, ro)) {
            @Override
            public void submit(Bio bio) {
                onSubmit.accept(name, bio);
                next.submit(bio);
            }
        };
    }

    /** {@code length} bytes, each 512-byte sector k of them holding {@code (byte) (k * step + first)}. */
    private static byte[] pattern(int length, int step, int first) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = (byte) (i / 512 * step + first);
        }
        return out;
    }

    private static Buffer bufferOf(Env env, byte[] bytes) {
        Buffer buf = env.buffers().allocate(bytes.length);
        buf.segment().copyFrom(java.lang.foreign.MemorySegment.ofArray(bytes));
        return buf;
    }

    /** Writes {@code bytes} at array byte {@code at} with FUA; the write must succeed. */
    private static void writeFua(Env env, MdArray array, long at, byte[] bytes) {
        Buffer buf = bufferOf(env, bytes);
        assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, at, buf.segment(), Bio.FUA));
        buf.release();
    }

    /** Where the first {@code count} chunks of a raid4/5/6 array lie (chunk bytes {@code chunk}). */
    private static io.jmd.md.stripe.ParityLayout.Place[] places(MdArray array, int chunk, int count) {
        var layout = ((io.jmd.md.stripe.StripeEngine) array.personality()).layout();
        io.jmd.md.stripe.ParityLayout.Place[] place = new io.jmd.md.stripe.ParityLayout.Place[count];
        for (int k = 0; k < count; k++) {
            place[k] = layout.place((long) k * chunk / 512, chunk / 512);
        }
        return place;
    }

    /** A read of {@code expected.length} bytes at array byte {@code at} succeeds and returns {@code expected}. */
    private static void assertReads(Env env, MdArray array, long at, byte[] expected, String what) {
        MemorySegmentHolder read = new MemorySegmentHolder(env, expected.length);
        assertEquals(Errno.OK, SyncIo.read(env.scheduler(), array, at, read.segment()), what);
        assertArrayEquals(expected, read.bytes(), what);
        read.release();
    }

    /** A buffer for a read, with its bytes. */
    private record MemorySegmentHolder(Buffer buf) {
        MemorySegmentHolder(Env env, long bytes) {
            this(env.buffers().allocate(bytes));
        }

        java.lang.foreign.MemorySegment segment() {
            return buf.segment();
        }

        byte[] bytes() {
            return buf.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }

        void release() {
            buf.release();
        }
    }
}

package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.FaultRule;
import io.jmd.block.SyncIo;
import io.jmd.md.format.FeatureBits;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.resync.SyncEngine;
import io.jmd.md.stripe.ParityLayout;
import io.jmd.md.stripe.StripeEngine;
import io.jmd.md.stripe.StripeGeometry;
import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static io.jmd.md.Raid1ArrayTest.BLOCK;
import static io.jmd.md.Raid1ArrayTest.verify;
import static io.jmd.md.Raid1ArrayTest.writeStream;
import static io.jmd.md.RedundancyTest.await;
import static io.jmd.md.RedundancyTest.awaitIdle;
import static io.jmd.md.RedundancyTest.sbOf;
import static io.jmd.md.StripeRedundancyTest.CHUNK_KIB;
import static io.jmd.md.StripeRedundancyTest.DISK_BYTES;
import static io.jmd.md.StripeRedundancyTest.assemble;
import static io.jmd.md.StripeRedundancyTest.checkParity;
import static io.jmd.md.StripeRedundancyTest.create;
import static io.jmd.md.StripeRedundancyTest.writeBlock;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A raid4/5/6 member being rebuilt works below its recovery checkpoint, as md's analyse_stripe
 * has it (not In_sync, recovery_offset at or past the stripe's end: in sync for that stripe):
 * reads are served from it there, read-modify-write and reconstruct-write read it, and a further
 * loss is rebuilt with its help; above the checkpoint it is missing, as before. The recovery is
 * stopped midway (frozen after a checkpoint); the member reads counted per disk show who served.
 */
final class StripeRecoveringMemberTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    /** Counts each disk's reads (a delay rule of 1 ns over the whole disk fires on every read). */
    private static Map<String, FaultRule> countReads(Disks disks, String... names) {
        Map<String, FaultRule> out = new LinkedHashMap<>();
        for (String n : names) {
            out.put(n, disks.faults(n).addRule(FaultRule.delay(0, Long.MAX_VALUE, 1, Bio.Op.READ)));
        }
        return out;
    }

    private static long[] reads(Map<String, FaultRule> counters) {
        return counters.values().stream().mapToLong(FaultRule::hits).toArray();
    }

    /** Reads per disk since {@code before}, in the order the counters were made. */
    private static long[] readsSince(Map<String, FaultRule> counters, long[] before) {
        long[] now = reads(counters);
        for (int i = 0; i < now.length; i++) {
            now[i] -= before[i];
        }
        return now;
    }

    /** Every block of the array written once, in 1 MiB requests, versions tagged {@code tag}. */
    private static long[] fillAll(Env env, MdArray a, long tag) {
        long[] model = new long[(int) (a.sizeBytes() / BLOCK)];
        int per = (1 << 20) / BLOCK;
        Buffer buf = env.buffers().allocate(1 << 20);
        try {
            for (int first = 0; first < model.length; first += per) {
                int n = Math.min(per, model.length - first);
                for (int i = 0; i < n; i++) {
                    Raid1ArrayTest.fill(buf.segment().asSlice((long) i * BLOCK, BLOCK), tag << 32 | (first + i));
                }
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), a, (long) first * BLOCK,
                    buf.segment().asSlice(0, (long) n * BLOCK), 0));
                for (int i = 0; i < n; i++) {
                    model[first + i] = tag << 32 | (first + i);
                }
            }
        } finally {
            buf.release();
        }
        return model;
    }

    /**
     * Adds {@code spare}, lets its recovery pass a checkpoint, freezes the sync: returns the
     * member, being rebuilt, with its checkpoint on disk. Asserts the checkpoint lies inside.
     */
    private static Member pausedRecovery(Env env, Disks disks, MdArray a, String spare) throws Exception {
        SyncEngine engine = a.redundancy().engine();
        engine.throttle().setLimits(1, 1_000);
        assertTrue(MemberManager.add(a, spare, false).startsWith("added"));
        Member m = MemberManager.find(a, spare);
        await("a recovery checkpoint on " + spare, () -> m.recoveryOffsetBytes() >= 1 << 20);
        engine.setFrozen(true);
        await("the recovery stopped", () -> !engine.isRunning());
        long offset = m.recoveryOffsetBytes();
        long memberBytes = geometry(a).memberBytes();
        assertEquals(MemberState.RECOVERING, m.state());
        assertTrue(offset >= 1 << 20 && offset + (1 << 20) < memberBytes, "stopped midway: " + offset + " of " + memberBytes);
        await("the checkpoint on disk", () -> {
            try {
                var sb = sbOf(env, disks, spare);
                return sb.hasFeature(FeatureBits.RECOVERY_OFFSET) && sb.recoveryOffsetSectors() * 512 == offset;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        engine.throttle().setLimits(1_000, 10_000_000);
        return m;
    }


    private static StripeGeometry geometry(MdArray a) {
        return ((StripeEngine) a.personality()).geometry();
    }

    /**
     * A block whose data lies on {@code slot}, in the first row that lies wholly within member
     * bytes [lo, hi) and has data on the slot.
     */
    private static int blockIn(MdArray a, int slot, long lo, long hi) {
        StripeGeometry g = geometry(a);
        long chunk = g.chunkBytes();
        int data = g.dataDisks();
        for (long row = Math.ceilDiv(lo, chunk); (row + 1) * chunk <= hi; row++) {
            for (int k = 0; k < data; k++) {
                long at = (row * data + k) * chunk;
                if (g.layout().place(at / 512, CHUNK_KIB * 2).dataMember() == slot) {
                    return (int) (at / BLOCK);
                }
            }
        }
        throw new AssertionError("no block on slot " + slot + " in member bytes [" + lo + ", " + hi + ")");
    }

    private static long readVersion(Env env, MdArray a, int block, int[] status) {
        Buffer buf = env.buffers().allocate(BLOCK);
        try {
            status[0] = SyncIo.read(env.scheduler(), a, (long) block * BLOCK, buf.segment());
            return buf.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        } finally {
            buf.release();
        }
    }

    private static void assertReads(Env env, MdArray a, long[] model, int block) {
        int[] st = new int[1];
        long v = readVersion(env, a, block, st);
        assertEquals(Errno.OK, st[0], "read of block " + block);
        assertEquals(model[block], v, "block " + block);
    }

    /** Member byte offset (from the disk's start) of array block {@code block}. */
    private static long diskOffset(Env env, Disks disks, MdArray a, String disk, int block) throws Exception {
        ParityLayout.Place p = geometry(a).layout().place((long) block * BLOCK / 512, CHUNK_KIB * 2);
        return sbOf(env, disks, disk).dataOffsetSectors() * 512 + p.memberSector() * 512;
    }

    @Test
    void raid5ReadsAndWritesUseTheRecoveringMemberBelowItsCheckpointOnly() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3", "d4"};
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "d0", "d1", "d2", "d3", "d4", "e");
            create(env, disks, RaidLevel.RAID5, false, names);
            long[] model;
            try (MdArray a = assemble(disks, false, names)) {
                model = fillAll(env, a, 0xF111);
                MemberManager.fail(a, "d1");
                MemberManager.remove(a, "d1");
                Member e = pausedRecovery(env, disks, a, "e");
                long offset = e.recoveryOffsetBytes();
                int slot = e.slot();
                assertEquals(1, slot, "e takes d1's slot");
                // what the superblock says is rebuilt really is: e holds d1's bytes below it
                long dataOff = sbOf(env, disks, "e").dataOffsetSectors() * 512;
                assertEquals(sbOf(env, disks, "d1").dataOffsetSectors() * 512, dataOff);
                assertArrayEquals(disks.raw("d1", dataOff, (int) offset), disks.raw("e", dataOff, (int) offset),
                    "e is rebuilt up to its recorded recovery_offset");

                Map<String, FaultRule> counters = countReads(disks, "d0", "e", "d2", "d3", "d4");
                // a read below the checkpoint: straight from e, nobody else
                long chunk = geometry(a).chunkBytes();
                long end = geometry(a).memberBytes();
                int below = blockIn(a, slot, 0, offset);
                long[] before = reads(counters);
                assertReads(env, a, model, below);
                assertArrayEquals(new long[] {0, 1, 0, 0, 0}, readsSince(counters, before), "served by e alone");
                // above it: e is missing, the block comes back from the four others
                int above = blockIn(a, slot, offset, end);
                before = reads(counters);
                assertReads(env, a, model, above);
                long[] r = readsSince(counters, before);
                assertEquals(0, r[1], "e not read above its checkpoint: " + Arrays.toString(r));
                assertTrue(r[0] + r[2] + r[3] + r[4] > 0, "degraded read (what the stripe cache lacks): " + Arrays.toString(r));

                StripeRedundancyTest.forgetCachedStripes(a);
                // a second member (d2) cannot read a block (twice: the stripe reads a failed page
                // again on its own before it rebuilds it, as md): below the checkpoint, e helps rebuild it
                int d2Slot = MemberManager.find(a, "d2").slot();
                int d2Below = blockIn(a, d2Slot, 4 * chunk, offset); // rows of their own: nothing cached
                disks.faults("d2").addRule(FaultRule.error(diskOffset(env, disks, a, "d2", d2Below), BLOCK, Bio.Op.READ).times(2));
                before = reads(counters);
                assertReads(env, a, model, d2Below);
                assertTrue(readsSince(counters, before)[1] > 0, "rebuilt from e too");
                // above it, two blocks of the row are lost: raid5 cannot
                int d2Above = blockIn(a, d2Slot, offset + 4 * chunk, end);
                FaultRule bad = disks.faults("d2").addRule(FaultRule.error(diskOffset(env, disks, a, "d2", d2Above), BLOCK,
                    Bio.Op.READ));
                int[] st = new int[1];
                readVersion(env, a, d2Above, st);
                assertEquals(Errno.EIO, st[0], "above the checkpoint e does not count");
                disks.faults("d2").removeRule(bad);
                assertTrue(MemberManager.find(a, "d2").isInSync(), "a read error fails no member");

                // writes below: read-modify-write of e's block reads e's old data (4 data disks: 2 reads < 3)
                StripeEngine se = (StripeEngine) a.personality();
                long[] plans = se.writePlanCounts();
                before = reads(counters);
                writeBlock(env, a, model, below, 0xB10CL << 32 | below);
                assertEquals(1, readsSince(counters, before)[1], "old data read from e");
                assertEquals(plans[0] + 1, se.writePlanCounts()[0], "read-modify-write");
                // reconstruct-write of two other chunks of a row where e holds data reads e's chunk
                long rcwAt = rcwRange(a, slot, 8 * chunk, offset);
                plans = se.writePlanCounts();
                before = reads(counters);
                writeChunks(env, a, model, rcwAt, 2, 0xC0C0);
                long[] rr = readsSince(counters, before);
                assertTrue(rr[1] > 0, "e's data read for the parity: " + Arrays.toString(rr));
                assertEquals(plans[1] + 1, se.writePlanCounts()[1], "reconstruct-write");
                // and writes above it, and anywhere: e gets them all
                writeBlock(env, a, model, above, 0xAB0EL << 32 | above);
                counters.forEach((n, rule) -> disks.faults(n).removeRule(rule));
                writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                verify(env, a, model);

                long seq = a.redundancy().eventLog().nextSeq();
                a.redundancy().engine().setFrozen(false);
                awaitIdle(a);
                assertTrue(a.personality().isOptimal(), a.personality().status());
                String started = a.redundancy().eventLog().since(seq).stream().filter(x -> x.name().equals("RebuildStarted"))
                    .findFirst().orElseThrow().detail();
                assertTrue(started.contains("from " + offset / 1024 + "K"), "resumed at the checkpoint: " + started);
                verify(env, a, model);
                assertEquals(0, checkParity(a), "writes below the checkpoint kept e's parity consistent");
            }
            // e holds every block: the array runs on it without d0
            try (MdArray a = assemble(disks, true, "e", "d2", "d3", "d4")) {
                verify(env, a, model);
            }
        }
    }

    /** Array offset of two adjacent whole data chunks of a row in member bytes [lo, hi) where {@code slot} holds another. */
    private static long rcwRange(MdArray a, int slot, long lo, long hi) {
        StripeGeometry g = geometry(a);
        long chunk = g.chunkBytes();
        int data = g.dataDisks();
        for (long row = Math.ceilDiv(lo, chunk); (row + 1) * chunk <= hi; row++) {
            boolean slotHoldsData = false;
            for (int k = 0; k < data; k++) {
                slotHoldsData |= g.layout().place((row * data + k) * chunk / 512, CHUNK_KIB * 2).dataMember() == slot;
            }
            for (int k = 0; k + 1 < data && slotHoldsData; k++) {
                long at = (row * data + k) * chunk;
                int m0 = g.layout().place(at / 512, CHUNK_KIB * 2).dataMember();
                int m1 = g.layout().place((at + chunk) / 512, CHUNK_KIB * 2).dataMember();
                if (m0 != slot && m1 != slot) {
                    return at;
                }
            }
        }
        throw new AssertionError("no row in [" + lo + ", " + hi + ")");
    }

    private static void writeChunks(Env env, MdArray a, long[] model, long at, int chunks, long tag) {
        long len = chunks * geometry(a).chunkBytes();
        Buffer buf = env.buffers().allocate(len);
        try {
            int first = (int) (at / BLOCK);
            for (int i = 0; i < len / BLOCK; i++) {
                Raid1ArrayTest.fill(buf.segment().asSlice((long) i * BLOCK, BLOCK), tag << 32 | (first + i));
            }
            assertEquals(Errno.OK, SyncIo.write(env.scheduler(), a, at, buf.segment(), 0));
            for (int i = 0; i < len / BLOCK; i++) {
                model[first + i] = tag << 32 | (first + i);
            }
        } finally {
            buf.release();
        }
    }

    @Test
    void raid6WithAMemberRecoveringAndAnotherFailedStillRebuildsBelowTheCheckpoint() throws Exception {
        Env env = jmd.env();
        String[] names = {"d0", "d1", "d2", "d3", "d4", "d5"};
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "d0", "d1", "d2", "d3", "d4", "d5", "s1", "s4");
            create(env, disks, RaidLevel.RAID6, false, names);
            long[] model;
            try (MdArray a = assemble(disks, false, names)) {
                model = fillAll(env, a, 0xF666);
                MemberManager.fail(a, "d1");
                MemberManager.remove(a, "d1");
                Member s1 = pausedRecovery(env, disks, a, "s1");
                long offset = s1.recoveryOffsetBytes();
                MemberManager.fail(a, "d4"); // raid6 can: s1 is not counted as working
                Map<String, FaultRule> counters = countReads(disks, "d0", "s1", "d2", "d3", "d5");
                StripeRedundancyTest.forgetCachedStripes(a);
                // d2 cannot read a block: with d4 gone that is two lost, s1 makes up the third source
                int d2Slot = MemberManager.find(a, "d2").slot();
                long chunk = geometry(a).chunkBytes();
                long end = geometry(a).memberBytes();
                int below = blockIn(a, d2Slot, 4 * chunk, offset);
                disks.faults("d2").addRule(FaultRule.error(diskOffset(env, disks, a, "d2", below), BLOCK, Bio.Op.READ).times(2));
                long[] before = reads(counters);
                assertReads(env, a, model, below);
                assertTrue(readsSince(counters, before)[1] > 0, "s1 read for the rebuild");
                // above the checkpoint: s1, d4 and d2 are three, more than raid6 covers
                int above = blockIn(a, d2Slot, offset, end);
                FaultRule bad = disks.faults("d2").addRule(FaultRule.error(diskOffset(env, disks, a, "d2", above), BLOCK,
                    Bio.Op.READ));
                int[] st = new int[1];
                readVersion(env, a, above, st);
                assertEquals(Errno.EIO, st[0], "s1 does not count above its checkpoint");
                disks.faults("d2").removeRule(bad);
                // s1's own blocks below the checkpoint read from it
                int onS1 = blockIn(a, s1.slot(), 0, 4 * chunk);
                before = reads(counters);
                assertReads(env, a, model, onS1);
                assertArrayEquals(new long[] {0, 1, 0, 0, 0}, readsSince(counters, before));
                counters.forEach((n, rule) -> disks.faults(n).removeRule(rule));
                writeStream(env, a, model, 300, 8, n -> { }, new AtomicInteger());
                verify(env, a, model);

                // a spare for d4: one recovery rebuilds s4 from 0 (s1 a source below its checkpoint) and s1 from it
                MemberManager.remove(a, "failed");
                MemberManager.add(a, "s4", false);
                FaultRule s1Reads = disks.faults("s1").addRule(FaultRule.delay(0, Long.MAX_VALUE, 1, Bio.Op.READ));
                a.redundancy().engine().setFrozen(false);
                awaitIdle(a);
                assertTrue(a.personality().isOptimal(), a.personality().status());
                assertTrue(s1Reads.hits() > 0, "the sync read s1 where it was rebuilt already (md's analyse_stripe)");
                disks.faults("s1").removeRule(s1Reads);
                verify(env, a, model);
                assertEquals(0, checkParity(a));
            }
            // both rebuilt members hold their blocks: the array runs on them with two others gone
            try (MdArray a = assemble(disks, true, "s1", "d2", "d3", "s4")) {
                verify(env, a, model);
            }
        }
    }
}

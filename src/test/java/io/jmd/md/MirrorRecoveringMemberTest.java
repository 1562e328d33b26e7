package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.FaultRule;
import io.jmd.block.SyncIo;
import io.jmd.md.resync.SyncEngine;
import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.ValueLayout;

import static io.jmd.md.RedundancyTest.DISK_BYTES;
import static io.jmd.md.RedundancyTest.assemble;
import static io.jmd.md.RedundancyTest.await;
import static io.jmd.md.RedundancyTest.awaitIdle;
import static io.jmd.md.RedundancyTest.create;
import static io.jmd.md.RedundancyTest.sbOf;
import static io.jmd.md.RedundancyTest.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A raid1 or raid10 member being rebuilt serves reads below its recovery checkpoint, as the
 * read_balance of raid1.c and raid10.c has it (a not-In_sync rdev is skipped only while
 * recovery_offset < the read's end on it): when the only copy in sync cannot read a block, the
 * block comes from the recovering member if the recovery has passed it, and is an I/O error only
 * above the checkpoint.
 */
final class MirrorRecoveringMemberTest {
    private static final int MIB = 1 << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    @Test
    void aReadTheInSyncMemberFailsIsServedByTheRecoveringMemberBelowItsCheckpointOnly() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b", "c");
            create(env, disks, false, "a", "b");
            try (MdArray array = assemble(disks, false, "a", "b")) {
                Member c = fillAndPauseRecovery(env, array, "b", "c", 2 * MIB);
                SyncEngine engine = array.redundancy().engine();
                long offset = c.recoveryOffsetBytes();
                assertEquals(MemberState.RECOVERING, c.state());
                assertTrue(offset + 2 * MIB <= array.sizeBytes(), "stopped midway: " + offset);

                // a cannot read anything any more; c has the blocks below its checkpoint
                long dataOffset = sbOf(env, disks, "a").dataOffsetSectors() * 512;
                disks.faults("a").addRule(FaultRule.error(dataOffset, DISK_BYTES - dataOffset, Bio.Op.READ));
                long below = offset - MIB;
                assertEquals(Errno.OK, readBlock(env, array, below, (int) (below / MIB) + 1),
                    "below the checkpoint the recovering member serves the read");
                long above = (offset / MIB + 1) * MIB;
                assertEquals(Errno.EIO, readBlock(env, array, above, (int) (above / MIB) + 1),
                    "above the checkpoint nothing holds the block");

                disks.faults("a").clearRules();
                engine.throttle().setLimits(1_000, 10_000_000);
                engine.setFrozen(false);
                awaitIdle(array);
                assertEquals(MemberState.IN_SYNC, c.state());
            }
        }
    }

    @Test
    void raid10NearReadsComeFromTheRecoveringMemberBelowItsCheckpointOnly() throws Exception {
        Env env = jmd.env();
        Raid10RedundancyTest.Shape shape = new Raid10RedundancyTest.Shape("n2x4",
            io.jmd.md.format.Raid10Layout.near(2), 4, 512);
        long chunk = 512 << 10;
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b", "c", "d", "e");
            Raid10RedundancyTest.create(env, disks, shape, false, "a", "b", "c", "d");
            try (MdArray array = assemble(disks, false, "a", "b", "c", "d")) {
                Member e = fillAndPauseRecovery(env, array, "b", "e", 2 * chunk);
                assertEquals(1, e.slot(), "e takes b's slot, the mirror of a's");
                SyncEngine engine = array.redundancy().engine();
                long offset = e.recoveryOffsetBytes();
                assertEquals(MemberState.RECOVERING, e.state());
                long memberData = array.sizeBytes() / 2;
                assertTrue(offset + 2 * chunk <= memberData, "stopped midway: " + offset + " of " + memberData);

                // near=2 on 4: even chunks live on a and e (slots 0, 1), at member offset chunk/2 * chunk
                long dataOffset = sbOf(env, disks, "a").dataOffsetSectors() * 512;
                disks.faults("a").addRule(FaultRule.error(dataOffset, DISK_BYTES - dataOffset, Bio.Op.READ));
                long memberBelow = (offset / chunk - 1) * chunk;
                long below = memberBelow / chunk * 2 * chunk;
                assertEquals(Errno.OK, readBlock(env, array, below, (int) (below / MIB) + 1),
                    "below the checkpoint the recovering member serves the read");
                long memberAbove = (offset / chunk + 1) * chunk;
                long above = memberAbove / chunk * 2 * chunk;
                assertEquals(Errno.EIO, readBlock(env, array, above, (int) (above / MIB) + 1),
                    "above the checkpoint nothing holds the block");

                disks.faults("a").clearRules();
                engine.throttle().setLimits(1_000, 10_000_000);
                engine.setFrozen(false);
                awaitIdle(array);
                assertEquals(MemberState.IN_SYNC, e.state());
            }
        }
    }

    /**
     * Fills the array (each MiB with its number + 1), replaces {@code failed} by {@code spare} and
     * freezes the recovery once its checkpoint passed {@code checkpointBytes}; returns the spare.
     */
    private static Member fillAndPauseRecovery(Env env, MdArray array, String failed, String spare,
                                               long checkpointBytes) throws Exception {
        for (long at = 0; at < array.sizeBytes(); at += MIB) {
            write(env, array, at, MIB, (int) (at / MIB) + 1);
        }
        MemberManager.fail(array, failed);
        MemberManager.remove(array, failed);
        SyncEngine engine = array.redundancy().engine();
        engine.throttle().setLimits(1, 1_000);
        assertTrue(MemberManager.add(array, spare, false).startsWith("added"));
        Member m = MemberManager.find(array, spare);
        await("a recovery checkpoint on " + spare, () -> m.recoveryOffsetBytes() >= checkpointBytes);
        engine.setFrozen(true);
        await("the recovery stopped", () -> !engine.isRunning());
        return m;
    }

    /** Reads 4 KiB at {@code at}; on success checks every byte is {@code value}. Returns the status. */
    private static int readBlock(Env env, MdArray array, long at, int value) {
        Buffer b = env.buffers().allocate(4096);
        try {
            int status = SyncIo.read(env.scheduler(), array, at, b.segment());
            if (status == Errno.OK) {
                for (int i = 0; i < 4096; i++) {
                    assertEquals((byte) value, b.segment().get(ValueLayout.JAVA_BYTE, i), "byte " + i + " at " + at);
                }
            }
            return status;
        } finally {
            b.release();
        }
    }
}

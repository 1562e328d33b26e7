package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.FaultRule;
import io.jmd.block.SyncIo;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.stripe.StripeEngine;
import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.jmd.md.StripeRedundancyTest.DISK_BYTES;
import static io.jmd.md.StripeRedundancyTest.create;
import static io.jmd.md.StripeRedundancyTest.diskOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When raid4/5/6 fails a member for read errors, as raid5_end_read_request: not for how many bad
 * pages it had rebuilt and rewritten over its life (a disk with scattered bad sectors keeps
 * serving), but when its read errors since its last good read pass the stripe cache size
 * (max_nr_stripes), or when a rewritten page still does not read.
 */
final class StripeReadErrorLimitTest {
    private static final int BLOCK = 4096;
    private static final String[] NAMES = {"a", "b", "c"};

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    /** The first {@code count} 4 KiB array blocks, one per 64 KiB chunk, that live on disk {@code disk}. */
    private static List<Long> blocksOn(Env env, Disks disks, MdArray a, String disk, int count, long[] diskOffsets)
            throws Exception {
        List<Long> out = new ArrayList<>();
        long[] at = new long[1];
        for (long off = 0; out.size() < count; off += 64 << 10) {
            if (diskOf(env, disks, a, NAMES, off, at).equals(disk)) {
                diskOffsets[out.size()] = at[0];
                out.add(off);
            }
        }
        return out;
    }

    private static void fill(Env env, MdArray a) {
        Buffer buf = env.buffers().allocate(1 << 20);
        try {
            for (long off = 0; off < a.sizeBytes(); off += 1 << 20) {
                for (int i = 0; i < (1 << 20); i += 8) {
                    buf.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, i, off + i);
                }
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), a, off, buf.segment(), 0));
            }
        } finally {
            buf.release();
        }
    }

    /** Reads the block at {@code off} and checks it holds what {@link #fill} wrote. */
    private static void readAndCheck(Env env, MdArray a, long off) {
        Buffer buf = env.buffers().allocate(BLOCK);
        try {
            assertEquals(Errno.OK, SyncIo.read(env.scheduler(), a, off, buf.segment()), "read at " + off);
            for (int i = 0; i < BLOCK; i += 8) {
                assertEquals(off + i, buf.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, i), "byte " + i + " of " + off);
            }
        } finally {
            buf.release();
        }
    }


    @Test
    void aMemberWithManyScatteredBadSectorsKeepsServing() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, NAMES);
            create(env, disks, RaidLevel.RAID5, false, NAMES);
            try (MdArray a = StripeRedundancyTest.assemble(disks, false, NAMES)) {
                fill(env, a);
                StripeRedundancyTest.forgetCachedStripes(a);
                int bad = 30; // more than raid1's limit of 20 corrections
                long[] at = new long[bad];
                List<Long> blocks = blocksOn(env, disks, a, "b", bad, at);
                for (int i = 0; i < bad; i++) {
                    // fails the direct read and the page retry; the rewrite makes it readable
                    disks.faults("b").addRule(FaultRule.error(at[i], 512, Bio.Op.READ).times(2));
                }
                Member b = MemberManager.find(a, "b");
                int before = b.correctedReads();
                for (long off : blocks) {
                    readAndCheck(env, a, off);
                }
                assertEquals(before + bad, b.correctedReads(), "every bad page rebuilt and rewritten");
                assertTrue(b.isInSync(), "a member whose bad pages were all corrected stays in the array");
                for (long off : blocks) {
                    readAndCheck(env, a, off);
                }
            }
        }
    }

    @Test
    void aMemberThatStopsReadingIsFailedAfterMoreErrorsInARowThanTheStripeCacheHolds() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, NAMES);
            create(env, disks, RaidLevel.RAID5, false, NAMES);
            try (MdArray rw = StripeRedundancyTest.assemble(disks, false, NAMES)) {
                fill(env, rw);
            }
            // read-only: nothing is rewritten, so every bad read counts as a read error
            try (MdArray a = io.jmd.md.Assembler.assemble(env, disks.opener(), List.of(NAMES),
                    new Assembler.Options(false, true))) {
                StripeEngine se = (StripeEngine) a.personality();
                se.setStripeCacheSize(8);
                StripeRedundancyTest.forgetCachedStripes(a);
                int n = 40;
                long[] at = new long[n];
                List<Long> blocks = blocksOn(env, disks, a, "b", n, at);
                Member b = MemberManager.find(a, "b");
                // bad reads with a good one between: the run of errors never grows
                long good = blocks.get(n - 1);
                disks.faults("b").addRule(FaultRule.error(at[0], 512, Bio.Op.READ));
                for (int i = 0; i < 20; i++) {
                    StripeRedundancyTest.forgetCachedStripes(a);
                    readAndCheck(env, a, blocks.get(0));
                    readAndCheck(env, a, good);
                }
                assertTrue(b.isInSync(), "read errors with good reads between them fail no member");
                // now it reads nothing: failed once its errors in a row pass the cache's 8 stripes
                long errorsBefore = b.readErrors();
                disks.faults("b").addRule(FaultRule.error(0, DISK_BYTES, Bio.Op.READ));
                for (int i = 1; i < n && b.isInSync(); i++) {
                    readAndCheck(env, a, blocks.get(i));
                }
                assertEquals(MemberState.FAULTY, b.state(), "a member that stopped reading is failed");
                long inARow = b.readErrors() - errorsBefore;
                assertTrue(inARow > 8 && inARow <= 8 + 4, "failed just past 8 errors in a row: " + inARow);
                for (int i = 1; i < n; i++) {
                    readAndCheck(env, a, blocks.get(i)); // degraded reads, all correct
                }
            }
        }
    }
}

package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.FaultRule;
import io.jmd.block.SyncIo;
import io.jmd.md.format.DevRole;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.Superblock1Layout;
import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RAID1 over injected storage: failures, retries, restarts, stale members, resync. */
final class Raid1ArrayTest {
    static final long DISK_BYTES = 16L << 20;
    static final int BLOCK = 4096;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    @Test
    void memberFailingInTheMiddleOfAWriteStreamLosesNoAcknowledgedWrite() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            disks.createRaid1("a", "b");
            long[] model;
            try (MdArray array = disks.assemble(false, "a", "b")) {
                int blocks = (int) (array.sizeBytes() / BLOCK);
                model = new long[blocks];
                AtomicInteger acked = new AtomicInteger();
                writeStream(env, array, model, 3000, 32, n -> {
                    if (n == 1000) {
                        disks.faults("b").failDevice();
                    }
                }, acked);
                assertEquals(3000, acked.get(), "every write is acknowledged: one member survives");
                Member b = array.members().stream().filter(m -> m.path().equals("b")).findFirst().orElseThrow();
                assertEquals(MemberState.FAULTY, b.state());
                assertFalse(array.personality().isOptimal());
                assertEquals("[2/1] [U_]", array.personality().status());
                verify(env, array, model);
            }
            Superblock1 onA = SuperblockIo.read(env, disks.opener().open("a", true)).superblock();
            assertEquals(DevRole.FAULTY, onA.devRoles().role(1), "a records b as faulty");
            assertEquals(0, onA.devRoles().role(0));
            assertTrue(onA.isClean());
            disks.faults("b").restoreDevice();
            MdException degraded = assertThrows(MdException.class, () -> disks.assemble(false, "a", "b"));
            assertTrue(degraded.getMessage().contains("--run"), degraded.getMessage());
            assertTrue(degraded.getMessage().contains("b is "), degraded.getMessage());
            try (MdArray again = disks.assemble(true, "a", "b")) {
                assertEquals(1, again.members().size(), "b stays out: " + again.notes());
                verify(env, again, model);
            }
        }
    }

    @Test
    void writeThatLostAMemberIsAcknowledgedOnlyAfterTheFailureIsOnDisk() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            disks.createRaid1("a", "b");
            try (MdArray array = disks.assemble(false, "a", "b")) {
                // make sure the array is already dirty, so the only superblock write left is the failure's
                writeStream(env, array, new long[16], 1, 1, n -> { }, new AtomicInteger());
                // slow superblock writes on a: an early ack would come before b is recorded faulty
                disks.holdFrom = 4096;
                disks.holdTo = 8192;
                disks.holdNanos = 300_000_000L;
                disks.faults("b").failDevice();
                Buffer buf = env.buffers().allocate(BLOCK);
                try {
                    fill(buf.segment(), 42);
                    assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, 8 * BLOCK, buf.segment(), 0));
                } finally {
                    buf.release();
                }
                Superblock1 onA = SuperblockIo.read(env, disks.medium("a")).superblock();
                assertEquals(DevRole.FAULTY, onA.devRoles().role(1), "acknowledged before b's failure was recorded");
                disks.holdNanos = 0;
            }
        }
    }

    @Test
    void failedReadIsRetriedOnTheOtherMember() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            disks.createRaid1("a", "b");
            try (MdArray array = disks.assemble(false, "a", "b")) {
                long[] model = new long[(int) (array.sizeBytes() / BLOCK)];
                writeStream(env, array, model, 500, 8, n -> { }, new AtomicInteger());
                // one latent sector error: the read is retried on b, and b's copy rewritten to a
                // (fix_read_error); a member whose every read keeps failing would be failed instead
                disks.faults("a").addRule(FaultRule.error(0, DISK_BYTES, Bio.Op.READ).times(1));
                verify(env, array, model);
                Member a = array.members().get(0);
                assertTrue(a.readErrors() > 0, "reads hit a and failed there");
                assertTrue(a.isInSync(), "a read error alone does not fail a member");
                disks.faults("a").addRule(FaultRule.error(0, DISK_BYTES, Bio.Op.READ));
                disks.faults("b").addRule(FaultRule.error(0, DISK_BYTES, Bio.Op.READ));
                Buffer buf = env.buffers().allocate(BLOCK);
                try {
                    assertEquals(Errno.EIO, SyncIo.read(env.scheduler(), array, 0, buf.segment()));
                } finally {
                    buf.release();
                }
                disks.faults("a").clearRules();
                disks.faults("b").clearRules();
            }
        }
    }

    @Test
    void writeFailingOnEveryMemberReportsEioAndKeepsTheLastMember() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            disks.createRaid1("a", "b");
            try (MdArray array = disks.assemble(false, "a", "b")) {
                disks.faults("a").addRule(FaultRule.error(1 << 20, 1 << 20, Bio.Op.WRITE));
                disks.faults("b").addRule(FaultRule.error(1 << 20, 1 << 20, Bio.Op.WRITE));
                Buffer buf = env.buffers().allocate(BLOCK);
                try {
                    int st = SyncIo.write(env.scheduler(), array, 0, buf.segment(), 0);
                    assertEquals(Errno.EIO, st);
                } finally {
                    buf.release();
                }
                long inSync = array.members().stream().filter(Member::isInSync).count();
                assertEquals(1, inSync, "md never fails the last working member");
                disks.faults("a").clearRules();
                disks.faults("b").clearRules();
            }
        }
    }

    @Test
    void restartFindsTheSameArrayWithItsData() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            Creator.Result created = disks.createRaid1("a", "b");
            long[] model;
            long eventsBefore;
            try (MdArray array = disks.assemble(false, "a", "b")) {
                model = new long[(int) (array.sizeBytes() / BLOCK)];
                writeStream(env, array, model, 800, 16, n -> { }, new AtomicInteger());
                flush(env, array);
                eventsBefore = array.events();
            }
            try (MdArray again = disks.assemble(false, "b", "a")) {
                assertEquals(created.superblock().setUuid(), again.superblock().setUuid());
                assertTrue(again.events() >= eventsBefore, "events never go back");
                assertTrue(again.isClean(), "closed clean");
                assertTrue(again.personality().isOptimal());
                verify(env, again, model);
            }
        }
    }

    @Test
    void arrayBecomesDirtyOnWriteAndCleanAgainAfterTheSafeModeDelay() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            disks.createRaid1("a", "b");
            try (MdArray array = disks.assemble(false, "a", "b")) {
                assertTrue(array.isClean());
                writeStream(env, array, new long[16], 4, 1, n -> { }, new AtomicInteger());
                Superblock1 duringOrAfter = SuperblockIo.read(env, disks.opener().open("a", true)).superblock();
                long deadline = System.nanoTime() + 20_000_000_000L; // the safe-mode timer and the md thread compete for the CPU
                while (!SuperblockIo.read(env, disks.opener().open("a", true)).superblock().isClean()
                    && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertTrue(SuperblockIo.read(env, disks.opener().open("a", true)).superblock().isClean(),
                    "marked clean after " + MdArray.SAFE_MODE_DELAY_NANOS / 1_000_000 + " ms without writes");
                assertTrue(duringOrAfter.events() > 0);
            }
        }
    }

    @Test
    void staleMemberIsLeftOutWithAClearReason() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            disks.createRaid1("a", "b");
            try (MdArray onlyA = disks.assemble(true, "a")) {
                writeStream(env, onlyA, new long[64], 50, 4, n -> { }, new AtomicInteger());
            }
            MdException e = assertThrows(MdException.class, () -> disks.assemble(false, "a", "b"));
            assertTrue(e.getMessage().contains("b is stale"), e.getMessage());
            try (MdArray run = disks.assemble(true, "a", "b")) {
                assertEquals(1, run.members().size());
                assertTrue(run.notes().stream().anyMatch(n -> n.contains("stale")), run.notes().toString());
            }
        }
    }

    @Test
    void corruptSuperblockIsRefusedAndNothingIsWritten() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            disks.createRaid1("a", "b");
            Buffer one = env.buffers().allocate(512);
            try {
                MemorySegment s = one.segment();
                MemorySegment.copy(MemorySegment.ofArray(disks.raw("a", 4096, 512)), 0, s, 0, 512);
                s.set(ValueLayout.JAVA_BYTE, 0x40, (byte) (s.get(ValueLayout.JAVA_BYTE, 0x40) ^ 1)); // ctime bit
                assertEquals(0, SyncIo.write(env.scheduler(), disks.medium("a"), 4096, s, 0));
            } finally {
                one.release();
            }
            byte[] aBefore = disks.raw("a", 0, 1 << 20);
            byte[] bBefore = disks.raw("b", 0, 1 << 20);
            MdException e = assertThrows(MdException.class, () -> disks.assemble(true, "a", "b"));
            assertTrue(e.getMessage().contains("a: no valid md v1 superblock"), e.getMessage());
            assertTrue(e.getMessage().toLowerCase().contains("checksum"), e.getMessage());
            assertArrayEquals(aBefore, disks.raw("a", 0, 1 << 20));
            assertArrayEquals(bBefore, disks.raw("b", 0, 1 << 20));
        }
    }

    @Test
    void dirtyArrayIsResyncedFromTheFirstMemberAtAssembly() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(DISK_BYTES, "a", "b");
            disks.createRaid1("a", "b");
            long[] model;
            try (MdArray array = disks.assemble(false, "a", "b")) {
                model = new long[(int) (array.sizeBytes() / BLOCK)];
                writeStream(env, array, model, 300, 8, n -> { }, new AtomicInteger());
            }
            long dataOffset = SuperblockIo.read(env, disks.opener().open("b", true)).superblock().dataOffsetSectors() * 512;
            // A crash left the mirrors different and the superblocks dirty:
            Buffer junk = env.buffers().allocate(1 << 20);
            try {
                junk.segment().fill((byte) 0x5a);
                assertEquals(0, SyncIo.write(env.scheduler(), disks.medium("b"), dataOffset + (2 << 20), junk.segment(), 0));
            } finally {
                junk.release();
            }
            for (String n : new String[] {"a", "b"}) {
                var dev = disks.opener().open(n, false);
                SuperblockIo.Found f = SuperblockIo.read(env, dev);
                assertEquals(0, SuperblockIo.write(env, dev, f.superblock().withResyncOffsetSectors(0), f.location()));
            }
            assertNotEquals(Arrays.hashCode(disks.raw("a", dataOffset, 8 << 20)), Arrays.hashCode(disks.raw("b", dataOffset, 8 << 20)));
            try (MdArray array = disks.assemble(false, "a", "b")) {
                assertTrue(array.notes().stream().anyMatch(n -> n.contains("not shut down clean")), array.notes().toString());
                verify(env, array, model); // while the resync runs online: reads come from the first member
                array.redundancy().awaitSyncIdle();
                assertFalse(array.needsResync());
            }
            long size = (DISK_BYTES - dataOffset);
            assertArrayEquals(disks.raw("a", dataOffset, (int) size), disks.raw("b", dataOffset, (int) size), "mirrors agree");
            assertEquals(Superblock1Layout.MAX_SECTOR,
                SuperblockIo.read(env, disks.opener().open("b", true)).superblock().resyncOffsetSectors());
        }
    }

    // ---- helpers ----

    interface Progress {
        void acked(int n);
    }

    /**
     * Writes {@code count} 4 KiB blocks at random places, {@code depth} at a time; on each ack,
     * records the block's new version in {@code model} (only acknowledged writes count).
     */
    static void writeStream(Env env, MdArray array, long[] model, int count, int depth, Progress progress, AtomicInteger acked)
        throws InterruptedException {
        SplittableRandom rnd = new SplittableRandom(7);
        ConcurrentHashMap<Integer, Long> inflightBlocks = new ConcurrentHashMap<>();
        AtomicLong failures = new AtomicLong();
        java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(depth);
        for (int i = 0; i < count; i++) {
            slots.acquire();
            int block;
            do {
                block = rnd.nextInt(model.length);
            } while (inflightBlocks.putIfAbsent(block, 0L) != null);
            long version = ((long) (i + 1) << 32) | block;
            Buffer buf = env.buffers().allocate(BLOCK);
            fill(buf.segment(), version);
            final int b = block;
            array.submit(Bio.write((long) block * BLOCK, buf.segment(), 0, null, bio -> {
                if (bio.status() == Errno.OK) {
                    model[b] = version;
                    progress.acked(acked.incrementAndGet());
                } else {
                    failures.incrementAndGet();
                }
                buf.release();
                inflightBlocks.remove(b);
                slots.release();
            }));
        }
        slots.acquire(depth);
        slots.release(depth);
        assertEquals(0, failures.get(), "writes failed");
    }

    static void fill(MemorySegment s, long version) {
        for (long o = 0; o < s.byteSize(); o += 8) {
            s.set(ValueLayout.JAVA_LONG_UNALIGNED, o, version ^ o);
        }
    }

    static void verify(Env env, MdArray array, long[] model) {
        Buffer buf = env.buffers().allocate(BLOCK);
        try {
            for (int b = 0; b < model.length; b++) {
                int st = SyncIo.read(env.scheduler(), array, (long) b * BLOCK, buf.segment());
                assertEquals(Errno.OK, st, "read of block " + b);
                long first = buf.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
                long want = model[b];
                assertEquals(want, first, "block " + b + " holds version " + Long.toHexString(first));
                if (want != 0) {
                    assertEquals(want ^ 4088, buf.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 4088), "tail of block " + b);
                }
            }
        } finally {
            buf.release();
        }
    }

    static void flush(Env env, MdArray array) {
        assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), array));
    }
}

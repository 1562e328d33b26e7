package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.stripe.StripeEngine;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.jmd.md.ParityArrayTest.random;
import static io.jmd.md.ParityArrayTest.read;
import static io.jmd.md.ParityArrayTest.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Write batches on raid4/5/6 stripes: the writes queued on one stripe are served together, and a
 * partial stripe of a sequential stream waits (bounded) for the writes that complete it, as md's
 * delayed list does; so a stream of writes smaller than a row becomes full-stripe writes.
 */
final class StripeBatchTest {
    static final long MIB = 1 << 20;
    static final int KIB = 1024;
    /** 4 members, 64K chunks: a row is 3 data chunks, 192K; the stripe unit is the chunk. */
    static final int ROW = 192 * KIB;
    static final int HALF_ROW = ROW / 2;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    /** Writes issued at once, ended in any order. */
    static final class Inflight {
        final List<Bio> bios = new ArrayList<>();
        final CountDownLatch ended;
        final AtomicInteger failures = new AtomicInteger();

        Inflight(int n) {
            ended = new CountDownLatch(n);
        }

        Bio write(MdArray array, long at, byte[] data) {
            Bio b = Bio.write(at, MemorySegment.ofArray(data), 0, this, bio -> {
                if (bio.status() != Errno.OK) {
                    failures.incrementAndGet();
                }
                ended.countDown();
            });
            bios.add(b);
            array.submit(b);
            return b;
        }

        void await() throws InterruptedException {
            assertTrue(ended.await(30, TimeUnit.SECONDS), "writes did not end");
            assertEquals(0, failures.get(), "failed writes");
        }
    }

    private MdArray raid(Env env, Disks disks, RaidLevel level, String[] names) throws Exception {
        disks.add(8 * MIB, names);
        ArrayModel.create(env, disks, CreateOptions.defaults(level, names.length).withChunkKib(64), names);
        return Assembler.assemble(env, (n, ro) -> new ParityArrayTest.CountingDevice(disks.opener().open(n, ro)),
            List.of(names), Assembler.Options.DEFAULT);
    }

    @Test
    void halfRowWritesOfAStreamBecomeFullStripeWritesThatReadNothing() throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(4);
        try (Disks disks = new Disks(env); MdArray array = raid(env, disks, RaidLevel.RAID5, names)) {
            StripeEngine se = (StripeEngine) array.personality();
            // Long enough that only the next write (or a flush) ends a wait: the test is not timing-bound.
            se.setPartialStripeDelayNanos(TimeUnit.SECONDS.toNanos(60));
            byte[] first = random(ROW, 1);
            write(env, array, 0, first); // a whole row: where the stream starts
            long[] before = se.writePlanCounts();
            long readBefore = ParityArrayTest.CountingDevice.total();
            int rows = 8;
            byte[][] halves = new byte[2 * rows][];
            Inflight w = new Inflight(2 * rows);
            for (int i = 0; i < 2 * rows; i++) {
                halves[i] = random(HALF_ROW, 100 + i);
                w.write(array, ROW + (long) i * HALF_ROW, halves[i]);
            }
            w.await();
            long[] after = se.writePlanCounts();
            assertEquals(0, ParityArrayTest.CountingDevice.total() - readBefore, "member bytes read by the stream");
            assertEquals(rows, after[3] - before[3], "full-stripe writes: one per row (stripe unit = chunk)");
            assertEquals(rows, after[1] - before[1], "one reconstruct-write batch per row");
            assertEquals(0, after[0] - before[0], "no read-modify-write");
            assertArrayEquals(first, read(env, array, 0, ROW));
            for (int i = 0; i < 2 * rows; i++) {
                assertArrayEquals(halves[i], read(env, array, ROW + (long) i * HALF_ROW, HALF_ROW), "half " + i);
            }
            assertEquals(0, se.checkParity());
        }
    }

    @Test
    void aFlushEndsTheWaitOfADelayedPartialStripe() throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(4);
        try (Disks disks = new Disks(env); MdArray array = raid(env, disks, RaidLevel.RAID6, names)) {
            StripeEngine se = (StripeEngine) array.personality();
            se.setPartialStripeDelayNanos(TimeUnit.HOURS.toNanos(1));
            // raid6 over 4: two data chunks per row
            byte[] a = random(128 * KIB, 7);
            write(env, array, 0, a); // a whole row (two data chunks)
            long delayedBefore = se.writePlanCounts()[4];
            byte[] b = random(32 * KIB, 8);
            Inflight w = new Inflight(1);
            w.write(array, 128 * KIB, b); // continues the stream, half a chunk of a fresh row: it waits
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (se.writePlanCounts()[4] == delayedBefore && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            assertEquals(delayedBefore + 1, se.writePlanCounts()[4], "the partial stripe waits");
            assertFalse(w.ended.await(50, TimeUnit.MILLISECONDS), "a write delayed for an hour ended early");
            assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), array));
            w.await(); // well before the hour: the flush ended the wait
            assertArrayEquals(b, read(env, array, 128 * KIB, b.length));
            assertEquals(0, se.checkParity());
        }
    }

    @Test
    void aLoneWriteOfAStreamEndsOnceItsDelayIsOver() throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(4);
        try (Disks disks = new Disks(env); MdArray array = raid(env, disks, RaidLevel.RAID5, names)) {
            StripeEngine se = (StripeEngine) array.personality();
            byte[] a = random(ROW, 3);
            write(env, array, 0, a); // a whole row
            long[] before = se.writePlanCounts();
            byte[] b = random(16 * KIB, 4);
            long start = System.nanoTime();
            write(env, array, ROW, b); // a fresh row's first 16K, default delay: nothing follows, it goes after the delay
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            long[] after = se.writePlanCounts();
            assertEquals(1, after[4] - before[4], "delayed once");
            assertEquals(1, after[0] + after[1] - before[0] - before[1], "then written as one batch");
            assertEquals(0, after[3] - before[3], "not a full stripe");
            assertTrue(tookMillis < 20_000, "took " + tookMillis + " ms (the delay is a few ms: only a hang takes this long)");
            assertArrayEquals(a, read(env, array, 0, a.length));
            assertArrayEquals(b, read(env, array, ROW, b.length));
            assertEquals(0, se.checkParity());
        }
    }

    /**
     * Whole rows in one request are written from the request's buffer (parity computed from it,
     * the data not cached): a later partial write of those rows reads the data back from the
     * members and the parity stays right.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = RaidLevel.class, names = {"RAID4", "RAID5", "RAID6"})
    void wholeRowsWrittenFromTheRequestThenPartlyRewritten(RaidLevel level) throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(5);
        try (Disks disks = new Disks(env); MdArray array = raid(env, disks, level, names)) {
            StripeEngine se = (StripeEngine) array.personality();
            int row = se.geometry().dataDisks() * 64 * KIB;
            byte[] rows = random(4 * row, 11);
            long[] before = se.writePlanCounts();
            long readBefore = ParityArrayTest.CountingDevice.total();
            write(env, array, row, rows);
            assertEquals(4, se.writePlanCounts()[3] - before[3], "four full-stripe writes");
            assertEquals(0, ParityArrayTest.CountingDevice.total() - readBefore, "a full-stripe write reads nothing");
            assertEquals(0, se.checkParity());
            byte[] patch = random(12 * KIB, 12);
            int at = row + row + 20 * KIB; // inside the second row's first data block
            write(env, array, at, patch);
            System.arraycopy(patch, 0, rows, at - row, patch.length);
            assertArrayEquals(rows, read(env, array, row, rows.length));
            assertEquals(0, se.checkParity());
        }
    }

    @Test
    void randomWritesAndFuaWritesAreNotDelayed() throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(4);
        try (Disks disks = new Disks(env); MdArray array = raid(env, disks, RaidLevel.RAID5, names)) {
            StripeEngine se = (StripeEngine) array.personality();
            se.setPartialStripeDelayNanos(TimeUnit.HOURS.toNanos(1));
            write(env, array, 5 * ROW + 4096, random(4096, 1)); // starts no stream
            write(env, array, 9 * ROW, random(8192, 2));
            byte[] fua = random(4096, 3);
            assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, 9 * ROW + 8192, MemorySegment.ofArray(fua), Bio.FUA));
            assertEquals(0, se.writePlanCounts()[4], "nothing waited");
            assertArrayEquals(fua, read(env, array, 9 * ROW + 8192, fua.length));
        }
    }

    @Test
    void batchedStreamsKeepEveryWriteWhenAMemberFailsUnderThem() throws Exception {
        Env env = jmd.env();
        String[] names = LevelRoundTripTest.names(4);
        try (Disks disks = new Disks(env); MdArray array = raid(env, disks, RaidLevel.RAID5, names)) {
            StripeEngine se = (StripeEngine) array.personality();
            se.setPartialStripeDelayNanos(TimeUnit.SECONDS.toNanos(60));
            int streams = 3;
            int pieces = 24;
            long streamBytes = 4 * MIB; // more than a stream writes: streams do not overlap
            byte[][][] data = new byte[streams][pieces][];
            Inflight w = new Inflight(streams * pieces);
            for (int i = 0; i < pieces; i++) {
                for (int s = 0; s < streams; s++) {
                    data[s][i] = random(HALF_ROW / 2 * 3, s * 1000 + i); // 3/4 of a row: stripes span pieces
                    w.write(array, s * streamBytes + (long) i * data[s][i].length, data[s][i]);
                }
                if (i == pieces / 3) {
                    disks.faults(names[2]).failDevice(); // writes in flight and to come fail on member 2
                }
            }
            SyncIo.flush(env.scheduler(), array); // the last partial stripes go (EIO if member 2 was still in it)
            w.await(); // every write ends OK: the member fails, the array goes on degraded
            assertTrue(se.isDegraded());
            for (int s = 0; s < streams; s++) {
                for (int i = 0; i < pieces; i++) {
                    assertArrayEquals(data[s][i], read(env, array, s * streamBytes + (long) i * data[s][i].length,
                        data[s][i].length), "stream " + s + " piece " + i);
                }
            }
        }
    }
}

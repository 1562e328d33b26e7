package io.jmd.block;

import io.jmd.Env;
import io.jmd.mem.Buffer;
import io.jmd.sync.Completion;
import io.jmd.testutil.JmdEnvExtension;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FaultInjectingDeviceTest {
    private static final long MIB = 1 << 20;
    private static final long MILLIS = 1_000_000L;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(64 * MIB);

    private FaultInjectingDevice faulty(Env env, long sizeBytes) {
        return new FaultInjectingDevice(env, new MemoryBlockDevice(env, "mem", sizeBytes));
    }

    private static int read(Env env, BlockDevice dev, long offsetBytes, int bytes) {
        return SyncIo.read(env.scheduler(), dev, offsetBytes, MemorySegment.ofArray(new byte[bytes]));
    }

    private static int write(Env env, BlockDevice dev, long offsetBytes, int bytes) {
        MemorySegment seg = MemorySegment.ofArray(new byte[bytes]);
        BlockTests.fill(seg, 1, offsetBytes);
        return SyncIo.write(env.scheduler(), dev, offsetBytes, seg, 0);
    }

    @Test
    void read_error_hits_only_its_range_and_only_reads() {
        Env env = jmd.env();
        try (FaultInjectingDevice dev = faulty(env, MIB)) {
            FaultRule rule = dev.addRule(FaultRule.error(64 * 1024, 4096, Bio.Op.READ));
            assertEquals(Errno.OK, write(env, dev, 64 * 1024, 4096), "writes pass");
            assertEquals(Errno.EIO, read(env, dev, 64 * 1024, 4096));
            assertEquals(Errno.EIO, read(env, dev, 60 * 1024, 8192), "overlapping from below");
            assertEquals(Errno.EIO, read(env, dev, 68 * 1024 - 512, 4096), "overlapping from above");
            assertEquals(Errno.OK, read(env, dev, 60 * 1024, 4096), "just below");
            assertEquals(Errno.OK, read(env, dev, 68 * 1024, 4096), "just above");
            assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), dev));
            assertEquals(3, rule.hits());
            assertEquals(3, dev.injectedErrors());

            assertTrue(dev.removeRule(rule));
            assertEquals(Errno.OK, read(env, dev, 64 * 1024, 4096));
            BlockTests.assertReads(env, dev, 64 * 1024, 4096, 1);
        }
    }

    @Test
    void write_error_writes_nothing_and_can_carry_another_errno() {
        Env env = jmd.env();
        try (FaultInjectingDevice dev = faulty(env, MIB)) {
            dev.addRule(FaultRule.error(0, 8192, Bio.Op.WRITE, Bio.Op.FLUSH).withErrno(Errno.ENOSPC));
            assertEquals(Errno.ENOSPC, write(env, dev, 4096, 4096));
            assertEquals(Errno.ENOSPC, SyncIo.flush(env.scheduler(), dev), "a FLUSH rule matches every flush");
            assertEquals(Errno.OK, read(env, dev, 0, 8192));
            BlockTests.assertReadsZero(env, dev, 4096, 4096);
            assertEquals(0, ((MemoryBlockDevice) dev.next()).allocatedChunks(), "the failed write never reached next");
        }
    }

    @Test
    void count_limited_error_fires_the_first_n_times() {
        Env env = jmd.env();
        try (FaultInjectingDevice dev = faulty(env, MIB)) {
            FaultRule rule = dev.addRule(FaultRule.error(0, MIB, Bio.Op.READ).times(2));
            assertEquals(Errno.EIO, read(env, dev, MIB - 4096, 4096));
            assertEquals(Errno.EIO, read(env, dev, 0, 4096));
            assertEquals(Errno.OK, read(env, dev, 0, 4096));
            assertEquals(Errno.OK, read(env, dev, 0, 4096));
            assertEquals(2, rule.hits());
            assertTrue(rule.exhausted());
        }
    }

    @Test
    void probabilistic_error_is_seeded() {
        long[] counts = new long[2];
        for (int run = 0; run < 2; run++) {
            Env env = new Env(io.jmd.testutil.Schedulers.throwing(), new SplittableRandom(99), 16 * MIB, true);
            try (FaultInjectingDevice dev = faulty(env, MIB)) {
                FaultRule rule = dev.addRule(FaultRule.error(0, MIB, Bio.Op.READ).withProbability(0.25));
                StringBuilder pattern = new StringBuilder();
                for (int i = 0; i < 2000; i++) {
                    pattern.append(read(env, dev, (i % 256) * 4096L, 4096) == Errno.EIO ? 'x' : '.');
                }
                counts[run] = rule.hits() * 1_000_003L + pattern.toString().hashCode();
                assertTrue(rule.hits() > 400 && rule.hits() < 600, "about a quarter fail: " + rule.hits());
            } finally {
                env.close();
            }
        }
        assertEquals(counts[0], counts[1], "the same seed gives the same faults");
    }

    @Test
    void latency_delays_only_its_range() {
        Env env = jmd.env();
        try (FaultInjectingDevice dev = faulty(env, MIB)) {
            // a delay longer than any stall of a loaded machine: a read that took less was not delayed
            long delay = 1_000 * MILLIS;
            dev.addRule(FaultRule.delay(0, 4096, delay, Bio.Op.READ, Bio.Op.WRITE));
            long t0 = System.nanoTime();
            assertEquals(Errno.OK, read(env, dev, 0, 4096));
            long slow = System.nanoTime() - t0;
            t0 = System.nanoTime();
            assertEquals(Errno.OK, read(env, dev, 4096, 4096));
            long fast = System.nanoTime() - t0;
            assertTrue(slow >= delay, "delayed " + slow / MILLIS + " ms");
            assertTrue(fast < delay, "not delayed: " + fast / MILLIS + " ms");
            assertEquals(1, dev.injectedDelays());
        }
    }

    @Test
    void whole_device_failure_fails_everything_until_restored() {
        Env env = jmd.env();
        try (FaultInjectingDevice dev = faulty(env, MIB)) {
            assertEquals(Errno.OK, write(env, dev, 0, 4096));
            dev.failDevice();
            assertTrue(dev.isFailed());
            assertEquals(Errno.EIO, read(env, dev, 0, 4096));
            assertEquals(Errno.EIO, write(env, dev, 8192, 4096));
            assertEquals(Errno.EIO, SyncIo.flush(env.scheduler(), dev));
            assertEquals(Errno.EIO, BlockTests.op(env, dev, Bio.Op.DISCARD, 0, 4096, 0));
            assertEquals(4, dev.failedBios());
            dev.restoreDevice();
            assertEquals(Errno.OK, read(env, dev, 0, 4096));
            BlockTests.assertReads(env, dev, 0, 4096, 1);
        }
    }

    /** Bios in flight when the disk is pulled fail too (inner layer slow, outer layer failed). */
    @Test
    void failure_catches_bios_in_flight() {
        Env env = jmd.env();
        FaultInjectingDevice inner = faulty(env, MIB);
        inner.addRule(FaultRule.delay(0, MIB, 200 * MILLIS, Bio.Op.WRITE));
        try (FaultInjectingDevice dev = new FaultInjectingDevice(env, inner)) {
            Completion done = new Completion(env.scheduler(), "write");
            dev.submit(Bio.write(0, MemorySegment.ofArray(new byte[4096]), 0, null, b -> done.complete(b.status())));
            dev.failDevice();
            assertEquals(Errno.EIO, done.await());
            assertEquals(1, dev.failedBios());
        }
    }

    /**
     * Queue depth 2 on a slow range: two bios fill the device, trySubmit refuses a third, and
     * submit waits until one of the two ends (backpressure), then goes through.
     */
    @Test
    void backpressure_on_a_slow_device() {
        Env env = jmd.env();
        try (FaultInjectingDevice dev = new FaultInjectingDevice(env, new MemoryBlockDevice(env, "mem", MIB), 2)) {
            // the device must stay full from the two submits to the trySubmit: a delay no stall outlasts
            long delay = 1_000 * MILLIS;
            dev.addRule(FaultRule.delay(0, MIB, delay, Bio.Op.READ));
            long startNanos = System.nanoTime();
            Completion first = new Completion(env.scheduler(), "first");
            Completion second = new Completion(env.scheduler(), "second");
            dev.submit(Bio.read(0, MemorySegment.ofArray(new byte[4096]), null, b -> first.complete(b.status())));
            dev.submit(Bio.read(4096, MemorySegment.ofArray(new byte[4096]), null, b -> second.complete(b.status())));
            assertEquals(2, dev.inFlight());
            Completion third = new Completion(env.scheduler(), "third");
            Bio bio = Bio.read(8192, MemorySegment.ofArray(new byte[4096]), null, b -> third.complete(b.status()));
            assertFalse(dev.trySubmit(bio), "full: trySubmit refuses");
            assertFalse(bio.ended());

            AtomicLong submittedNanos = new AtomicLong();
            Thread submitter = TestThreads.startDaemon("submitter", () -> {
                dev.submit(bio); // waits for a slot
                submittedNanos.set(System.nanoTime());
            });
            TestThreads.joinAll(java.util.List.of(submitter));
            long waited = submittedNanos.get() - startNanos;
            assertTrue(waited >= delay - 50 * MILLIS, "submit returned only once a delayed bio ended: " + waited / MILLIS + " ms");
            assertEquals(Errno.OK, first.await());
            assertEquals(Errno.OK, second.await());
            assertEquals(Errno.OK, third.await());
            assertTrue(dev.trySubmit(Bio.flush(null, b -> { })));
            TestThreads.eventually("flush ended", () -> dev.inFlight() == 0);
        }
    }

    @Test
    void layers_compose_over_a_file() throws Exception {
        Env env = jmd.env();
        Path dir = BlockTests.scratchDir(BlockTests.targetDir(), "fault-");
        try {
            FileBlockDevice file = FileBlockDevice.open(env, FileBlockDevice.Options.of(dir.resolve("m0")).create(MIB).direct(true));
            try (FaultInjectingDevice dev = new FaultInjectingDevice(env, file)) {
                assertEquals(MIB, dev.sizeBytes());
                assertTrue(dev.supportsDiscard());
                BlockTests.write(env, dev, 0, 8192, 4, 0);
                dev.addRule(FaultRule.error(4096, 4096, Bio.Op.READ).times(1));
                Buffer b = env.buffers().allocate(8192);
                try {
                    assertEquals(Errno.EIO, SyncIo.read(env.scheduler(), dev, 0, b.segment()));
                    assertEquals(Errno.OK, SyncIo.read(env.scheduler(), dev, 0, b.segment()));
                    BlockTests.assertPattern(b.segment(), 4, 0);
                } finally {
                    b.release();
                }
                assertTrue(BlockTests.allData(dev, 0, 8192));
                assertTrue(BlockTests.allHole(dev, 8192, MIB - 8192));
            }
        } finally {
            BlockTests.deleteTree(dir);
        }
    }
}

package io.jmd.block;

import io.jmd.Env;
import io.jmd.mem.Buffer;
import io.jmd.sync.Completion;
import io.jmd.sync.DependencyViolation;
import io.jmd.testutil.JmdEnvExtension;
import io.jmd.testutil.Schedulers;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many bios at once, and callbacks that misbehave: the devices keep track of every bio. */
class DeviceConcurrencyTest {
    private static final long MIB = 1 << 20;
    private static final int BLOCK_BYTES = 4096;
    private static final int WRITES = 10_000;
    private static final int THREADS = 4;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256 * MIB);

    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        dir = BlockTests.scratchDir(BlockTests.targetDir(), "conc-");
    }

    @AfterEach
    void removeDir() throws IOException {
        BlockTests.deleteTree(dir);
    }

    /**
     * THREADS submitters each write their own blocks (block % THREADS == thread) once, in random
     * order, asynchronously: submit waits for slots, callbacks release the buffers. Then every
     * block is read back; the pattern depends on the offset, so a misplaced write shows.
     */
    private void randomWritesThenReadBack(Env env, BlockDevice dev) {
        AtomicInteger left = new AtomicInteger(WRITES);
        Completion allDone = new Completion(env.scheduler(), "all writes");
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        TestThreads.runConcurrently(THREADS, t -> {
            List<Integer> mine = new java.util.ArrayList<>();
            for (int b = t; b < WRITES; b += THREADS) {
                mine.add(b);
            }
            java.util.Collections.shuffle(mine, new java.util.Random(t));
            for (int block : mine) {
                long offset = (long) block * BLOCK_BYTES;
                Buffer buf = BlockTests.patternBuffer(env, BLOCK_BYTES, 11, offset);
                dev.submit(Bio.write(offset, buf.segment(), 0, null, bio -> {
                    buf.release();
                    if (bio.status() != Errno.OK) {
                        failures.add(bio + ": " + Errno.name(bio.status()));
                    }
                    if (left.decrementAndGet() == 0) {
                        allDone.complete(0);
                    }
                }));
            }
        });
        assertTrue(allDone.await(TestThreads.HANG.toNanos()), "writes did not all end: " + left.get() + " left");
        assertTrue(failures.isEmpty(), failures.toString());
        for (long off = 0; off < (long) WRITES * BLOCK_BYTES; off += MIB) {
            long n = Math.min(MIB, (long) WRITES * BLOCK_BYTES - off);
            BlockTests.assertReads(env, dev, off, n, 11);
        }
    }

    @Test
    void ten_thousand_random_writes_on_a_direct_file() throws IOException {
        Env env = jmd.env();
        FileBlockDevice.Options o = FileBlockDevice.Options.of(dir.resolve("m0")).create(64 * MIB).direct(true);
        try (FileBlockDevice dev = FileBlockDevice.open(env, o)) {
            randomWritesThenReadBack(env, dev);
            assertEquals(0, dev.inFlight());
            assertEquals(0, dev.ioErrors());
        }
    }

    @Test
    void ten_thousand_random_writes_on_a_buffered_file_with_depth_4() throws IOException {
        Env env = jmd.env();
        FileBlockDevice.Options o = FileBlockDevice.Options.of(dir.resolve("m0")).create(64 * MIB).queueDepth(4);
        try (FileBlockDevice dev = FileBlockDevice.open(env, o)) {
            randomWritesThenReadBack(env, dev);
        }
    }

    @Test
    void ten_thousand_random_writes_on_memory_through_a_fault_layer() {
        Env env = jmd.env();
        try (FaultInjectingDevice dev = new FaultInjectingDevice(env, new MemoryBlockDevice(env, "mem", 64 * MIB), 16)) {
            randomWritesThenReadBack(env, dev);
        }
    }

    /**
     * A callback that blocks: the checker (THROW mode) throws in the callback; the device has
     * ended the bio, frees its slot, counts and reports the failure, and keeps working; the I/O
     * pool keeps its worker. Runs on its own Env, as the violation is provoked on purpose.
     */
    private void blockingCallbackIsCaught(Function<Env, BlockDevice> open, Function<BlockDevice, Long> failuresOf) {
        List<String> reports = new CopyOnWriteArrayList<>();
        Env env = new Env(Schedulers.throwing(reports), new SplittableRandom(1), 64 * MIB, true);
        try (BlockDevice dev = open.apply(env)) {
            Completion reached = new Completion(env.scheduler(), "callback reached");
            Completion never = new Completion(env.scheduler(), "never completed");
            Buffer buf = env.buffers().allocate(BLOCK_BYTES);
            dev.submit(Bio.read(0, buf.segment(), null, bio -> {
                buf.release();
                reached.complete(bio.status());
                never.await(); // blocks in a must-not-block section: the checker throws here
            }));
            assertEquals(Errno.OK, reached.await());
            TestThreads.eventually("the failure is counted", () -> failuresOf.apply(dev) == 1);
            assertEquals(1, env.scheduler().checker().violations().size());
            assertTrue(reports.getFirst().contains("BLOCK_IN_ATOMIC"), reports.getFirst());
            // The device and the pool go on.
            for (int i = 0; i < 100; i++) {
                BlockTests.write(env, dev, (long) i * BLOCK_BYTES, BLOCK_BYTES, 3, 0);
            }
            BlockTests.assertReads(env, dev, 0, 100 * BLOCK_BYTES, 3);
        } finally {
            env.close();
        }
        env.buffers().assertNoLeaks();
    }

    @Test
    void blocking_callback_on_a_file_device_is_reported() {
        blockingCallbackIsCaught(env -> {
            try {
                return FileBlockDevice.open(env, FileBlockDevice.Options.of(dir.resolve("m0")).create(MIB));
            } catch (DeviceOpenException e) {
                throw new AssertionError(e);
            }
        }, dev -> {
            FileBlockDevice f = (FileBlockDevice) dev;
            if (f.callbackFailures() > 0) {
                DependencyViolation v = assertInstanceOf(DependencyViolation.class, f.firstCallbackFailure());
                assertEquals(DependencyViolation.Rule.BLOCK_IN_ATOMIC, v.rule());
            }
            return f.callbackFailures();
        });
    }

    @Test
    void blocking_callback_on_a_memory_device_is_reported() {
        blockingCallbackIsCaught(env -> new MemoryBlockDevice(env, "mem", MIB),
            dev -> ((MemoryBlockDevice) dev).callbackFailures());
    }

    /** Inline: the callback runs on the submitter, still in a must-not-block section. */
    @Test
    void blocking_callback_on_an_inline_memory_device_is_reported() {
        blockingCallbackIsCaught(env -> new MemoryBlockDevice(env, MemoryBlockDevice.Options.of("mem", MIB).inline(true)),
            dev -> ((MemoryBlockDevice) dev).callbackFailures());
    }

    @Test
    void blocking_callback_behind_a_delay_is_reported() {
        blockingCallbackIsCaught(env -> {
            FaultInjectingDevice f = new FaultInjectingDevice(env, new MemoryBlockDevice(env, "mem", MIB));
            f.addRule(FaultRule.delay(0, BLOCK_BYTES, 1_000_000, Bio.Op.READ).times(1)); // ends on the timer thread
            return f;
        }, dev -> ((FaultInjectingDevice) dev).callbackFailures());
    }

    /** A callback that throws something else is counted too, and nothing is lost. */
    @Test
    void throwing_callback_is_counted() {
        Env env = jmd.env();
        try (MemoryBlockDevice dev = new MemoryBlockDevice(env, "mem", MIB)) {
            Completion reached = new Completion(env.scheduler(), "callback reached");
            dev.submit(Bio.flush(null, bio -> {
                reached.complete(bio.status());
                throw new IllegalStateException("callback bug");
            }));
            assertEquals(Errno.OK, reached.await());
            TestThreads.eventually("the failure is counted", () -> dev.callbackFailures() == 1);
            assertInstanceOf(IllegalStateException.class, dev.firstCallbackFailure());
            assertEquals(0, dev.inFlight());
            BlockTests.write(env, dev, 0, BLOCK_BYTES, 1, 0);
        }
    }
}

package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.md.format.CreateOptions;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An in-memory model of an array's content and a random workload that keeps it: each thread owns
 * one region of the array (so the model is exact), but regions share stripes, chunks and member
 * I/O, so threads do meet inside the array. Writes, write-zeroes and reads of random sizes at
 * random sector offsets; every read is checked against the model at once.
 */
final class ArrayModel {
    /** A request that takes this long is lost, not slow. */
    static final java.time.Duration STALL_LIMIT = java.time.Duration.ofSeconds(90);

    final byte[] bytes;

    ArrayModel(long sizeBytes) {
        this.bytes = new byte[Math.toIntExact(sizeBytes)];
    }

    /** Creates an array of any level over {@code names}; the members are new (zero), so it is clean at once. */
    static Creator.Result create(Env env, Disks disks, CreateOptions options, String... names) throws MdException, IOException {
        List<BlockDevice> devs = new ArrayList<>();
        for (String n : names) {
            devs.add(disks.opener().open(n, false));
        }
        try {
            return Creator.create(env, devs, new Creator.Request(options, Optional.of("test"), "lv", 0, false, true, false));
        } finally {
            devs.forEach(BlockDevice::close);
        }
    }

    /** {@code threads} threads, each doing {@code ops} random requests of up to {@code maxBytes} in its region. */
    void randomIo(Env env, BlockDevice array, int threads, int ops, int maxBytes, long seed) throws InterruptedException {
        long region = bytes.length / threads / 4096 * 4096;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long from = t * region;
            long to = t == threads - 1 ? bytes.length : from + region;
            long s = seed * 31 + t;
            ts.add(Thread.ofPlatform().name("model-io-" + t).daemon(true).start(() -> {
                try {
                    work(env, array, from, to, ops, maxBytes, new SplittableRandom(s));
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : ts) {
            if (!t.join(STALL_LIMIT)) {
                throw new AssertionError("workload stalled: " + t.getName() + " waited " + STALL_LIMIT + " for a request");
            }
        }
        if (failure.get() != null) {
            throw new AssertionError("workload failed: " + failure.get(), failure.get());
        }
    }

    private void work(Env env, BlockDevice array, long from, long to, int ops, int maxBytes, SplittableRandom r) {
        for (int i = 0; i < ops; i++) {
            int sectors = 1 + r.nextInt(Math.max(1, maxBytes / 512));
            if (r.nextInt(4) == 0) {
                sectors = Math.min(sectors, 8); // plenty of small ones: partial pages, read-modify-write
            }
            long len = Math.min((long) sectors * 512, to - from);
            long at = from + (long) r.nextInt((int) ((to - from - len) / 512) + 1) * 512;
            int kind = r.nextInt(10);
            if (kind < 6) {
                byte[] data = new byte[(int) len];
                r.nextBytes(data);
                assertEquals(Errno.OK, SyncIo.write(env.scheduler(), array, at, MemorySegment.ofArray(data), 0), "write at " + at);
                System.arraycopy(data, 0, bytes, (int) at, (int) len);
            } else if (kind == 6) {
                assertEquals(Errno.OK, SyncIo.submitAndWait(env.scheduler(), array, Bio.Op.WRITE_ZEROES, at, null, len, 0),
                    "write-zeroes at " + at);
                Arrays.fill(bytes, (int) at, (int) (at + len), (byte) 0);
            } else {
                byte[] got = new byte[(int) len];
                assertEquals(Errno.OK, SyncIo.read(env.scheduler(), array, at, MemorySegment.ofArray(got)), "read at " + at);
                assertArrayEquals(Arrays.copyOfRange(bytes, (int) at, (int) (at + len)), got, "read " + len + " at " + at);
            }
        }
    }

    /** Reads the whole array back, 1 MiB at a time, and compares it with the model. */
    void verify(Env env, BlockDevice array) {
        assertEquals(bytes.length, array.sizeBytes(), "array size");
        int step = 1 << 20;
        byte[] got = new byte[step];
        for (int at = 0; at < bytes.length; at += step) {
            int len = Math.min(step, bytes.length - at);
            MemorySegment seg = MemorySegment.ofArray(got).asSlice(0, len);
            assertEquals(Errno.OK, SyncIo.read(env.scheduler(), array, at, seg), "read at " + at);
            if (!Arrays.equals(bytes, at, at + len, got, 0, len)) {
                int i = Arrays.mismatch(bytes, at, at + len, got, 0, len);
                throw new AssertionError("array differs from the model at byte " + (at + i) + " (expected "
                    + bytes[at + i] + ", read " + got[i] + ")");
            }
        }
    }
}

package io.jmd.block;

import io.jmd.Env;
import io.jmd.sync.Completion;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static io.jmd.block.BlockTests.allData;
import static io.jmd.block.BlockTests.allHole;
import static io.jmd.block.BlockTests.assertReads;
import static io.jmd.block.BlockTests.assertReadsZero;
import static io.jmd.block.BlockTests.op;
import static io.jmd.block.BlockTests.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryBlockDeviceTest {
    private static final long MIB = 1 << 20;
    private static final int CHUNK = MemoryBlockDevice.CHUNK_BYTES;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(64 * MIB);

    @Test
    void round_trip_across_chunk_boundaries() {
        Env env = jmd.env();
        try (MemoryBlockDevice dev = new MemoryBlockDevice(env, "mem", 16 * MIB)) {
            write(env, dev, CHUNK - 512, 3 * CHUNK + 1024, 1, 0);
            assertReads(env, dev, CHUNK - 512, 3 * CHUNK + 1024, 1);
            assertReads(env, dev, CHUNK, CHUNK, 1);
            assertReadsZero(env, dev, 0, CHUNK - 512);
            assertEquals(5, dev.allocatedChunks());
            write(env, dev, 16 * MIB - 4096, 4096, 2, Bio.FUA);
            assertReads(env, dev, 16 * MIB - 4096, 4096, 2);
            assertEquals(Errno.OK, SyncIo.flush(env.scheduler(), dev));
        }
    }

    @Test
    void sparse_until_written_and_block_status_tells() {
        Env env = jmd.env();
        long size = 1L << 40; // a 1 TiB member costs nothing until written
        try (MemoryBlockDevice dev = new MemoryBlockDevice(env, "mem", size)) {
            assertEquals(0, dev.allocatedChunks());
            assertReadsZero(env, dev, size - MIB, MIB);
            assertEquals(List.of(new BlockTests.Extent(0, 8 * MIB, true, true)), BlockTests.extents(dev, 0, 8 * MIB));
            write(env, dev, 2 * CHUNK, 4096, 1, 0);
            assertEquals(List.of(new BlockTests.Extent(0, 2 * CHUNK, true, true),
                    new BlockTests.Extent(2 * CHUNK, CHUNK, false, false),
                    new BlockTests.Extent(3 * CHUNK, 8 * MIB - 3 * CHUNK, true, true)),
                BlockTests.extents(dev, 0, 8 * MIB));
            assertTrue(allData(dev, 2 * CHUNK + 512, 512));
        }
    }

    @Test
    void discard_frees_whole_chunks_and_zeroes_partial_ones() {
        Env env = jmd.env();
        try (MemoryBlockDevice dev = new MemoryBlockDevice(env, "mem", 4 * MIB)) {
            write(env, dev, 0, 8 * CHUNK, 1, 0);
            assertEquals(8, dev.allocatedChunks());
            assertEquals(Errno.OK, op(env, dev, Bio.Op.DISCARD, CHUNK / 2, 3 * CHUNK, 0));
            assertEquals(6, dev.allocatedChunks(), "chunks 1 and 2 freed; 0 and 3 partly zeroed");
            assertReads(env, dev, 0, CHUNK / 2, 1);
            assertReadsZero(env, dev, CHUNK / 2, 3 * CHUNK);
            assertReads(env, dev, 3 * CHUNK + CHUNK / 2, CHUNK / 2, 1);
            assertTrue(allHole(dev, CHUNK, 2 * CHUNK));

            assertEquals(Errno.OK, op(env, dev, Bio.Op.WRITE_ZEROES, 4 * CHUNK, CHUNK, 0));
            assertEquals(5, dev.allocatedChunks());
            assertEquals(Errno.OK, op(env, dev, Bio.Op.WRITE_ZEROES, 5 * CHUNK, CHUNK, Bio.NO_UNMAP));
            assertEquals(5, dev.allocatedChunks(), "NO_UNMAP keeps the chunk");
            assertReadsZero(env, dev, 4 * CHUNK, 2 * CHUNK);
            assertEquals(Errno.OK, op(env, dev, Bio.Op.WRITE_ZEROES, 20 * CHUNK, CHUNK, Bio.NO_UNMAP));
            assertEquals(6, dev.allocatedChunks(), "NO_UNMAP over a hole allocates");
            assertTrue(allData(dev, 20 * CHUNK, CHUNK));
        }
    }

    private Thread callbackThread(MemoryBlockDevice dev) {
        Env env = jmd.env();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        Completion done = new Completion(env.scheduler(), "read");
        MemorySegment seg = MemorySegment.ofArray(new byte[4096]);
        dev.submit(Bio.read(0, seg, null, bio -> {
            ranOn.set(Thread.currentThread());
            done.complete(bio.status());
        }));
        assertEquals(Errno.OK, done.await());
        return ranOn.get();
    }

    @Test
    void callbacks_run_on_a_worker_unless_inline() {
        Env env = jmd.env();
        try (MemoryBlockDevice dev = new MemoryBlockDevice(env, "mem", MIB)) {
            assertNotSame(Thread.currentThread(), callbackThread(dev));
        }
        try (MemoryBlockDevice dev = new MemoryBlockDevice(env, MemoryBlockDevice.Options.of("sim", MIB).inline(true))) {
            assertSame(Thread.currentThread(), callbackThread(dev));
            write(env, dev, 0, 4096, 1, 0);
            assertReads(env, dev, 0, 4096, 1);
        }
    }

    @Test
    void bad_options_are_refused() {
        assertThrows(IllegalArgumentException.class, () -> MemoryBlockDevice.Options.of("m", 1000));
        assertThrows(IllegalArgumentException.class, () -> MemoryBlockDevice.Options.of("m", 4096).queueDepth(0));
    }

    @Test
    void close_with_bios_in_flight_is_refused() {
        Env env = jmd.env();
        MemoryBlockDevice mem = new MemoryBlockDevice(env, "mem", MIB);
        FaultInjectingDevice dev = new FaultInjectingDevice(env, mem);
        // still in flight at close() even if the test thread stalls between the two
        dev.addRule(FaultRule.delay(0, MIB, 1_000_000_000L, Bio.Op.FLUSH));
        Completion done = new Completion(env.scheduler(), "flush");
        dev.submit(Bio.flush(null, b -> done.complete(b.status())));
        IllegalStateException e = assertThrows(IllegalStateException.class, dev::close);
        assertTrue(e.getMessage().contains("1 bio(s) in flight"), e.getMessage());
        assertEquals(Errno.OK, done.await());
        dev.close();
    }
}

package io.jmd.nbd;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.nbd.client.NbdBlockDevice;
import io.jmd.nbd.client.NbdUri;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jmd's NBD client ({@link NbdBlockDevice}) against jmd's own server, in process: data round
 * trips with simple and structured replies, requests longer than the maximum payload, many
 * requests in flight with replies out of order, backpressure, the commands reaching the device,
 * server-side errors, read-only exports, unix sockets, and refusals at open.
 */
class NbdBlockDeviceTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(512L << 20);
    private ServerFixture fx;

    @BeforeEach
    void start() throws IOException {
        fx = ServerFixture.start(jmd.env());
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    private NbdBlockDevice open(String export, boolean structured, int depth) throws IOException {
        NbdUri u = NbdUri.parse(fx.uri(export));
        return NbdBlockDevice.open(jmd.env(), NbdBlockDevice.Options.of(u).structuredReplies(structured).queueDepth(depth));
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private int write(NbdBlockDevice d, long offset, byte[] data, int flags) {
        return SyncIo.write(jmd.env().scheduler(), d, offset, MemorySegment.ofArray(data), flags);
    }

    private byte[] read(NbdBlockDevice d, long offset, int n) {
        byte[] b = new byte[n];
        assertEquals(0, SyncIo.read(jmd.env().scheduler(), d, offset, MemorySegment.ofArray(b)));
        return b;
    }

    @Test
    void dataRoundTripsWithSimpleAndStructuredReplies() throws IOException {
        for (boolean structured : new boolean[] {false, true}) {
            try (NbdBlockDevice d = open("disk", structured, 8)) {
                assertEquals(ServerFixture.SIZE_BYTES, d.sizeBytes());
                assertEquals(structured, d.exportInfo().structuredReplies());
                byte[] data = random(256 << 10, structured ? 1 : 2);
                long at = structured ? 1 << 20 : 8 << 20;
                assertEquals(0, write(d, at, data, 0));
                assertArrayEquals(data, read(d, at, data.length));
                assertArrayEquals(data, fx.device.readDirect(at, data.length), "the bytes are on the server's device");
            }
        }
    }

    @Test
    void requestsLongerThanTheMaximumPayloadAreSplit() throws IOException {
        // 40 MiB: more than the server's 32 MiB maximum payload, so two WRITEs and two READs.
        byte[] data = random(40 << 20, 3);
        try (NbdBlockDevice d = open("disk", true, 4)) {
            assertEquals(32 << 20, d.exportInfo().maxPayloadBytes());
            assertEquals(0, write(d, 4096, data, 0));
            assertArrayEquals(data, read(d, 4096, data.length));
        }
        assertArrayEquals(java.util.Arrays.copyOfRange(data, (36 << 20) - 7, 36 << 20),
            fx.device.readDirect(4096 + (36 << 20) - 7, 7));
    }

    @Test
    void manyRequestsInFlightEndOnceEachWithReplesOutOfOrder() throws Exception {
        Env env = jmd.env();
        try (NbdBlockDevice d = open("disk", true, 16)) {
            // Hold the first READ on the server: later requests overtake it.
            AtomicInteger heldOne = new AtomicInteger();
            fx.device.holdWhen(b -> b.op == Bio.Op.READ && heldOne.getAndIncrement() == 0);
            int n = 400;
            byte[][] blocks = new byte[n][];
            AtomicInteger ends = new AtomicInteger();
            AtomicInteger errors = new AtomicInteger();
            CountDownLatch writes = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                blocks[i] = random(4096, 100 + i);
                d.submit(Bio.write((long) i * 8192, MemorySegment.ofArray(blocks[i]), 0, null, b -> {
                    ends.incrementAndGet();
                    if (b.status() != 0) {
                        errors.incrementAndGet();
                    }
                    writes.countDown();
                }));
                assertTrue(d.inFlight() <= 16, "in flight is bounded by the queue depth");
            }
            assertTrue(writes.await(30, TimeUnit.SECONDS));
            byte[] first = new byte[4096];
            CountDownLatch firstRead = new CountDownLatch(1);
            d.submit(Bio.read(0, MemorySegment.ofArray(first), null, b -> firstRead.countDown()));
            byte[][] back = new byte[n][4096];
            CountDownLatch reads = new CountDownLatch(n - 1);
            for (int i = 1; i < n; i++) {
                d.submit(Bio.read((long) i * 8192, MemorySegment.ofArray(back[i]), null, b -> {
                    ends.incrementAndGet();
                    if (b.status() != 0) {
                        errors.incrementAndGet();
                    }
                    reads.countDown();
                }));
            }
            assertTrue(reads.await(30, TimeUnit.SECONDS), "later reads are answered while the first is held");
            assertEquals(1, firstRead.getCount());
            fx.device.releaseHeld();
            assertTrue(firstRead.await(30, TimeUnit.SECONDS));
            assertArrayEquals(blocks[0], first);
            for (int i = 1; i < n; i++) {
                assertArrayEquals(blocks[i], back[i], "block " + i);
            }
            assertEquals(2 * n - 1, ends.get(), "every bio ended exactly once");
            assertEquals(0, errors.get());
            assertEquals(0, d.callbackFailures());
            assertEquals(0, d.inFlight());
        }
        assertEquals(0, env.scheduler().checker().violations().size());
    }

    @Test
    void trySubmitNeverWaitsAndFailsWhenSaturated() throws IOException {
        try (NbdBlockDevice d = open("disk", false, 2)) {
            fx.device.holdWhen(b -> b.op == Bio.Op.READ);
            CountDownLatch done = new CountDownLatch(2);
            assertTrue(d.trySubmit(Bio.read(0, MemorySegment.ofArray(new byte[512]), null, b -> done.countDown())));
            assertTrue(d.trySubmit(Bio.read(512, MemorySegment.ofArray(new byte[512]), null, b -> done.countDown())));
            assertFalse(d.trySubmit(Bio.read(1024, MemorySegment.ofArray(new byte[512]), null, b -> { })),
                "both slots taken: trySubmit refuses instead of waiting");
            awaitHeld(2);
            fx.device.releaseHeld();
            try {
                assertTrue(done.await(io.jmd.testutil.TestThreads.HANG.toSeconds(), TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    private void awaitHeld(int n) {
        // sleeps between looks: a spinning test thread takes a core the server needs
        io.jmd.testutil.TestThreads.eventually("the server to get the requests", () -> fx.device.heldCount() >= n);
    }

    @Test
    void flushFuaTrimAndWriteZeroesReachTheDevice() throws IOException {
        Env env = jmd.env();
        try (NbdBlockDevice d = open("disk", true, 8)) {
            assertTrue(d.supportsDiscard());
            byte[] data = random(128 << 10, 5);
            assertEquals(0, write(d, 0, data, Bio.FUA));
            assertEquals(1, fx.device.fuaBios.get(), "FUA passes through as FUA");
            assertEquals(0, SyncIo.flush(env.scheduler(), d));
            assertEquals(1, fx.device.flushes.get());
            assertEquals(0, SyncIo.submitAndWait(env.scheduler(), d, Bio.Op.DISCARD, 0, null, 64 << 10, 0));
            assertEquals(1, fx.device.discards.get());
            assertEquals(0, SyncIo.submitAndWait(env.scheduler(), d, Bio.Op.WRITE_ZEROES, 64 << 10, null, 64 << 10,
                Bio.NO_UNMAP));
            assertEquals(1, fx.device.zeroes.get());
            assertEquals(1, fx.device.noUnmapZeroes.get(), "NO_UNMAP becomes NBD_CMD_FLAG_NO_HOLE");
            assertArrayEquals(new byte[128 << 10], read(d, 0, 128 << 10));
        }
    }

    @Test
    void aServerErrorFailsThatBioOnlyAndTheConnectionGoesOn() throws IOException {
        for (boolean structured : new boolean[] {false, true}) {
            try (NbdBlockDevice d = open("disk", structured, 8)) {
                fx.device.failWhen(b -> b.offsetBytes == 1 << 20);
                byte[] b = new byte[4096];
                assertEquals(Errno.EIO, SyncIo.read(jmd.env().scheduler(), d, 1 << 20, MemorySegment.ofArray(b)));
                assertEquals(Errno.EIO, write(d, 1 << 20, b, 0));
                fx.device.failWhen(x -> false);
                assertEquals(0, write(d, 2 << 20, random(4096, 9), 0));
                assertNull(d.failure(), "a failed request is not a failed connection");
            }
        }
    }

    @Test
    void readOnlyExports() throws IOException {
        NbdUri u = NbdUri.parse(fx.uri("ro"));
        IOException e = assertThrows(IOException.class, () -> NbdBlockDevice.open(jmd.env(), NbdBlockDevice.Options.of(u)));
        assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        try (NbdBlockDevice d = NbdBlockDevice.open(jmd.env(), u.toString(), true)) {
            assertEquals(ServerFixture.RO_SIZE_BYTES, d.sizeBytes());
            assertEquals(Errno.EROFS, write(d, 0, new byte[512], 0));
            assertArrayEquals(new byte[4096], read(d, 0, 4096));
        }
    }

    @Test
    void refusalsAtOpenNameTheUriAndTheReason() {
        IOException e = assertThrows(IOException.class, () -> NbdBlockDevice.open(jmd.env(), fx.uri("nosuch"), false));
        assertTrue(e.getMessage().startsWith(fx.uri("nosuch")) && e.getMessage().contains("no export named 'nosuch'"),
            e.getMessage());
        e = assertThrows(IOException.class, () -> NbdBlockDevice.open(jmd.env(), "nbd://127.0.0.1:1/disk", false));
        assertTrue(e.getMessage().contains("cannot connect to 127.0.0.1:1"), e.getMessage());
        e = assertThrows(IOException.class, () -> NbdBlockDevice.open(jmd.env(), "nbds://127.0.0.1/disk", false));
        assertTrue(e.getMessage().contains("TLS"), e.getMessage());
    }

    @Test
    void unixSocketExport(@TempDir Path dir) throws IOException {
        Path sock = dir.resolve("s");
        TestDevice dev = new TestDevice(jmd.env(), "u", 8L << 20);
        NbdServer s = NbdServer.builder(jmd.env()).export("", null, dev, false).listenUnix(sock).start();
        try (NbdBlockDevice d = NbdBlockDevice.open(jmd.env(), "nbd+unix:///?socket=" + sock, false)) {
            byte[] data = random(8192, 11);
            assertEquals(0, write(d, 8192, data, 0));
            assertArrayEquals(data, read(d, 8192, 8192));
            assertEquals("nbd+unix:///?socket=" + sock, d.name());
        } finally {
            s.close();
        }
        assertArrayEquals(random(8192, 11), dev.readDirect(8192, 8192));
    }

    @Test
    void closeSendsDiscAndTheServerSeesTheConnectionEnd() throws Exception {
        NbdBlockDevice d = open("disk", true, 4);
        assertEquals(0, write(d, 0, new byte[4096], 0));
        assertEquals(1, fx.server.connectionCount());
        d.close();
        io.jmd.testutil.TestThreads.eventually("the server to drop the connection", () -> fx.server.connectionCount() == 0);
        List<String> none = new ArrayList<>();
        assertEquals(none, jmd.env().scheduler().checker().violations());
        assertNotNull(d.exportInfo());
    }
}

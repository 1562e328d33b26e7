package io.jmd.nbd.client;

import io.jmd.block.Bio;
import io.jmd.block.SyncIo;
import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.jmd.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jmd's NBD client against nbdkit, a server it did not grow up with: nbdkit's memory plugin with
 * filters that take features away (blocksize-policy: 64 KiB maximum payload; nozero: no
 * WRITE_ZEROES), with structured and simple replies. What the client wrote is read back through
 * it and, independently, with nbdcopy from the same nbdkit.
 */
@Tag("interop")
class NbdkitPeerTest {
    static final long SIZE = 64L << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(128L << 20);
    @TempDir
    Path dir;
    private Process kit;

    @AfterEach
    void stopNbdkit() throws InterruptedException {
        if (kit != null) {
            kit.destroy();
            kit.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private String start(String... filtersAndPlugin) throws Exception {
        Path sock = dir.resolve("k.sock");
        List<String> cmd = new ArrayList<>(List.of(ExternalTool.require("nbdkit").toString(), "-f", "-U", sock.toString()));
        cmd.addAll(List.of(filtersAndPlugin));
        kit = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("kit.log").toFile()).start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(sock)) {
            assertTrue(kit.isAlive(), Files.readString(dir.resolve("kit.log")));
            assertTrue(System.nanoTime() < deadline, "nbdkit: no socket");
            Thread.sleep(20);
        }
        return "nbd+unix:///?socket=" + sock;
    }

    private byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void smallPayloadsAndNoWriteZeroes() throws Exception {
        String uri = start("--filter=blocksize-policy", "--filter=nozero", "memory", "64M",
            "blocksize-preferred=4096", "blocksize-maximum=65536", "zeromode=none");
        for (boolean structured : new boolean[] {true, false}) {
            NbdBlockDevice.Options o = NbdBlockDevice.Options.of(NbdUri.parse(uri)).structuredReplies(structured);
            try (NbdBlockDevice d = NbdBlockDevice.open(jmd.env(), o)) {
                ExportInfo info = d.exportInfo();
                assertEquals(structured, info.structuredReplies());
                assertEquals(65536, info.maxPayloadBytes());
                assertFalse(info.has(TFLAG_SEND_WRITE_ZEROES));
                assertEquals(SIZE, d.sizeBytes());
                long at = structured ? 1 << 20 : 8 << 20;
                byte[] data = random(1 << 20, at);
                // 1 MiB: sixteen WRITEs of the 64 KiB the server allows, with FUA
                assertEquals(0, SyncIo.write(jmd.env().scheduler(), d, at, MemorySegment.ofArray(data), Bio.FUA));
                // WRITE_ZEROES without server support: WRITEs of zeroes
                assertEquals(0, SyncIo.submitAndWait(jmd.env().scheduler(), d, Bio.Op.WRITE_ZEROES, at + 65536, null,
                    3 * 65536, 0));
                Arrays.fill(data, 65536, 4 * 65536, (byte) 0);
                // TRIM the last 64 KiB: the memory plugin reads it back as zeroes
                assertTrue(d.supportsDiscard());
                assertEquals(0, SyncIo.submitAndWait(jmd.env().scheduler(), d, Bio.Op.DISCARD, at + (15 << 16), null,
                    65536, 0));
                Arrays.fill(data, 15 << 16, 16 << 16, (byte) 0);
                byte[] back = new byte[(1 << 20) + (1 << 20)]; // and 1 MiB never written, sparse
                assertEquals(0, SyncIo.read(jmd.env().scheduler(), d, at, MemorySegment.ofArray(back)));
                assertArrayEquals(data, Arrays.copyOf(back, data.length));
                assertArrayEquals(new byte[1 << 20], Arrays.copyOfRange(back, 1 << 20, 2 << 20));
                assertEquals(0, SyncIo.flush(jmd.env().scheduler(), d));

                Path out = dir.resolve("copy.bin");
                ExternalTool.run("nbdcopy", uri, out.toString()).assertSuccess();
                byte[] seen = Files.readAllBytes(out);
                assertArrayEquals(data, Arrays.copyOfRange(seen, (int) at, (int) at + data.length),
                    "nbdcopy, another client, reads what jmd wrote");
            }
        }
    }

    /**
     * qemu-nbd answers reads of unallocated ranges with OFFSET_HOLE chunks: a read across data and
     * holes is assembled from both, and a TRIM leaves a hole that reads back as zeroes.
     */
    @Test
    void qemuNbdHolesAndData() throws Exception {
        Path img = dir.resolve("q.img");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        Path sock = dir.resolve("q.sock");
        kit = new ProcessBuilder(ExternalTool.require("qemu-nbd").toString(), "-k", sock.toString(), "-f", "raw", "-t",
            "--discard=unmap", img.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("kit.log").toFile()).start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(sock)) {
            assertTrue(kit.isAlive(), Files.readString(dir.resolve("kit.log")));
            assertTrue(System.nanoTime() < deadline, "qemu-nbd: no socket");
            Thread.sleep(20);
        }
        try (NbdBlockDevice d = NbdBlockDevice.open(jmd.env(), "nbd+unix:///?socket=" + sock, false)) {
            assertTrue(d.exportInfo().structuredReplies());
            byte[] data = random(256 << 10, 9);
            assertEquals(0, SyncIo.write(jmd.env().scheduler(), d, 1 << 20, MemorySegment.ofArray(data), 0));
            assertEquals(0, SyncIo.submitAndWait(jmd.env().scheduler(), d, Bio.Op.DISCARD, (1 << 20) + (64 << 10), null,
                64 << 10, 0));
            Arrays.fill(data, 64 << 10, 128 << 10, (byte) 0);
            byte[] back = new byte[4 << 20];
            Arrays.fill(back, (byte) 0x5a); // holes must overwrite this with zeroes
            assertEquals(0, SyncIo.read(jmd.env().scheduler(), d, 0, MemorySegment.ofArray(back)));
            byte[] want = new byte[4 << 20];
            System.arraycopy(data, 0, want, 1 << 20, data.length);
            assertArrayEquals(want, back);
        }
    }

    @Test
    void manyRequestsInFlightAgainstNbdkit() throws Exception {
        String uri = start("memory", "64M");
        try (NbdBlockDevice d = NbdBlockDevice.open(jmd.env(), uri, false)) {
            int n = 2000;
            byte[][] blocks = new byte[n][];
            long[] where = new long[n];
            Random r = new Random(3);
            CountDownLatch done = new CountDownLatch(n);
            AtomicInteger errors = new AtomicInteger();
            for (int i = 0; i < n; i++) {
                blocks[i] = random(4096 * (1 + r.nextInt(8)), i);
                where[i] = (long) i * 32768; // disjoint
                d.submit(Bio.write(where[i], MemorySegment.ofArray(blocks[i]), 0, null, b -> {
                    if (b.status() != 0) {
                        errors.incrementAndGet();
                    }
                    done.countDown();
                }));
            }
            assertTrue(done.await(60, TimeUnit.SECONDS));
            assertEquals(0, errors.get());
            CountDownLatch read = new CountDownLatch(n);
            byte[][] back = new byte[n][];
            for (int i = 0; i < n; i++) {
                back[i] = new byte[blocks[i].length];
                d.submit(Bio.read(where[i], MemorySegment.ofArray(back[i]), null, b -> {
                    if (b.status() != 0) {
                        errors.incrementAndGet();
                    }
                    read.countDown();
                }));
            }
            assertTrue(read.await(60, TimeUnit.SECONDS));
            assertEquals(0, errors.get());
            for (int i = 0; i < n; i++) {
                assertArrayEquals(blocks[i], back[i], "block " + i);
            }
        } catch (IOException e) {
            throw new AssertionError(Files.readString(dir.resolve("kit.log")), e);
        }
    }
}

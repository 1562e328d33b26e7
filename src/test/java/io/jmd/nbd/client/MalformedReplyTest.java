package io.jmd.nbd.client;

import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.jmd.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A server that breaks the protocol, vanishes or goes silent: every bio in flight and every later
 * one ends with EIO, the cause is a clear message, and nothing hangs. The server is
 * {@link FakeNbdServer}, which says exactly the bytes each case needs and then keeps the socket
 * open, so the client cannot lean on an end of stream to notice.
 */
class MalformedReplyTest {
    static final long SIZE = 1 << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(64L << 20);

    /** Bios submitted by a test and how they ended. */
    final class Tracker {
        final CountDownLatch done;
        final ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();
        final AtomicInteger ends = new AtomicInteger();

        Tracker(int n) {
            done = new CountDownLatch(n);
        }

        void end(Bio b) {
            ends.incrementAndGet();
            statuses.add(b.status());
            done.countDown();
        }

        void await(String what) throws InterruptedException {
            assertTrue(done.await(io.jmd.testutil.TestThreads.HANG.toSeconds(), TimeUnit.SECONDS),
                what + ": bios still in flight after " + io.jmd.testutil.TestThreads.HANG.toSeconds() + " s (a hang)");
        }
    }

    private NbdBlockDevice open(FakeNbdServer s, boolean structured, long replyTimeoutNanos) throws IOException {
        NbdBlockDevice.Options o = NbdBlockDevice.Options.of(NbdUri.parse(s.uri("x"))).structuredReplies(structured)
            .queueDepth(8).replyTimeoutNanos(replyTimeoutNanos).handshakeTimeoutNanos(2_000_000_000L);
        return NbdBlockDevice.open(jmd.env(), o);
    }

    private Tracker reads(NbdBlockDevice d, int n) {
        Tracker t = new Tracker(n);
        for (int i = 0; i < n; i++) {
            d.submit(Bio.read(i * 4096L, MemorySegment.ofArray(new byte[4096]), null, t::end));
        }
        return t;
    }

    /** One malformed answer to the first request, with what the client must say about it. */
    record Case(String expect, boolean structured, Responder responder) {
    }

    interface Responder {
        byte[] answer(FakeNbdServer.Req first);
    }

    static byte[] simple(int magic, int error, long cookie) {
        return ByteBuffer.allocate(16).putInt(magic).putInt(error).putLong(cookie).array();
    }

    static byte[] cat(byte[]... parts) {
        ByteBuffer b = ByteBuffer.allocate(java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum());
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    static byte[] offsetData(long offset, int n) {
        return ByteBuffer.allocate(8 + n).putLong(offset).array();
    }

    static List<Case> cases() {
        return List.of(
            new Case("bad reply magic", false, r -> simple(0x12345678, 0, r.cookie())),
            new Case("which is not in flight", false, r -> simple(SIMPLE_REPLY_MAGIC, 0, r.cookie() + 1000)),
            new Case("structured replies were not negotiated", false,
                r -> FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_NONE, r.cookie(), new byte[0])),
            new Case("simple reply with data", true, r -> simple(SIMPLE_REPLY_MAGIC, 0, r.cookie())),
            new Case("outside", true, r -> FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, r.cookie(),
                offsetData(r.offset() + 512, (int) r.length()))),
            new Case("overlaps an earlier chunk", true, r -> cat(
                FakeNbdServer.Conn.chunk(0, REPLY_TYPE_OFFSET_DATA, r.cookie(), offsetData(r.offset(), 1024)),
                FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, r.cookie(), offsetData(r.offset() + 512, 1024)))),
            new Case("answered as done with 0 of 4096", true,
                r -> FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_NONE, r.cookie(), new byte[0])),
            new Case("NONE chunk with 4 bytes", true,
                r -> FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_NONE, r.cookie(), new byte[4])),
            new Case("error chunk with error 0", true, r -> FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_ERROR,
                r.cookie(), new byte[6])),
            new Case("with a message of 500", true, r -> FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_ERROR,
                r.cookie(), ByteBuffer.allocate(10).putInt(EIO).putShort((short) 500).array())),
            new Case("error chunk of 1073741824 bytes", true, r -> ByteBuffer.allocate(20).putInt(STRUCTURED_REPLY_MAGIC)
                .putShort((short) REPLY_FLAG_DONE).putShort((short) REPLY_TYPE_ERROR).putLong(r.cookie()).putInt(1 << 30).array()),
            new Case("no block status was asked for", true,
                r -> FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_BLOCK_STATUS, r.cookie(), new byte[12])),
            new Case("chunk type 77", true, r -> FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, 77, r.cookie(), new byte[0])),
            new Case("OFFSET_HOLE chunk of 8 bytes", true,
                r -> FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_HOLE, r.cookie(), new byte[8])),
            new Case("empty OFFSET_HOLE", true, r -> FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_HOLE,
                r.cookie(), ByteBuffer.allocate(12).putLong(r.offset()).putInt(0).array())));
    }

    @Test
    void everyMalformedReplyFailsTheConnectionWithItsReasonAndEndsEveryBio() throws Exception {
        for (Case c : cases()) {
            CountDownLatch answered = new CountDownLatch(1);
            try (FakeNbdServer s = new FakeNbdServer(conn -> {
                conn.handshake(c.structured(), SIZE, 0);
                FakeNbdServer.Req first = conn.request();
                conn.write(c.responder().answer(first));
                answered.countDown();
                while (conn.request() != null) {
                    // read on, answer nothing: the socket stays open
                }
            })) {
                NbdBlockDevice d = open(s, true, 0);
                Tracker t = reads(d, 6);
                t.await(c.expect());
                assertEquals(6, t.ends.get(), c.expect());
                assertTrue(t.statuses.stream().allMatch(x -> x == Errno.EIO), c.expect() + ": " + t.statuses);
                IOException cause = d.failure();
                assertInstanceOf(NbdProtocolError.class, cause, c.expect());
                assertTrue(cause.getMessage().contains(c.expect()), "expected '" + c.expect() + "' in: " + cause.getMessage());
                assertEquals(Errno.EIO, SyncIo.read(jmd.env().scheduler(), d, 0, MemorySegment.ofArray(new byte[512])),
                    "a bio after the failure ends with EIO at once");
                d.close();
                // the script counts down after its write, which the client may have acted on first
                assertTrue(answered.await(io.jmd.testutil.TestThreads.HANG.toSeconds(), TimeUnit.SECONDS));
            }
        }
    }

    /** The well-formed side of structured reads: a hole, then data, then an empty DONE, out of order. */
    @Test
    void structuredReadsAssembleHoleAndDataChunksInAnyOrder() throws Exception {
        byte[] data = new byte[2048];
        new Random(5).nextBytes(data);
        try (FakeNbdServer s = new FakeNbdServer(conn -> {
            conn.handshake(true, SIZE, 0);
            FakeNbdServer.Req r = conn.request(); // READ of 4096
            conn.write(FakeNbdServer.Conn.chunk(0, REPLY_TYPE_OFFSET_HOLE, r.cookie(),
                ByteBuffer.allocate(12).putLong(r.offset()).putInt(2048).array()));
            conn.write(FakeNbdServer.Conn.chunk(0, REPLY_TYPE_OFFSET_DATA, r.cookie(),
                ByteBuffer.allocate(8 + 2048).putLong(r.offset() + 2048).put(data).array()));
            conn.write(FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_NONE, r.cookie(), new byte[0]));
            FakeNbdServer.Req e = conn.request(); // READ that fails on the server, with a message
            byte[] msg = "disk on fire".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            conn.write(FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_ERROR, e.cookie(),
                ByteBuffer.allocate(6 + msg.length).putInt(ENOSPC).putShort((short) msg.length).put(msg).array()));
            while (conn.request() != null) {
                // until DISC
            }
        })) {
            NbdBlockDevice d = open(s, true, 0);
            byte[] into = new byte[4096];
            java.util.Arrays.fill(into, (byte) 0x55);
            assertEquals(0, SyncIo.read(jmd.env().scheduler(), d, 8192, MemorySegment.ofArray(into)));
            assertTrue(java.util.Arrays.equals(new byte[2048], java.util.Arrays.copyOf(into, 2048)), "the hole reads as zeroes");
            assertTrue(java.util.Arrays.equals(data, java.util.Arrays.copyOfRange(into, 2048, 4096)));
            assertEquals(Errno.ENOSPC, SyncIo.read(jmd.env().scheduler(), d, 0, MemorySegment.ofArray(into)),
                "the server's errno is the bio's");
            assertEquals("disk on fire", d.lastServerMessage());
            assertEquals(null, d.failure(), "an error chunk fails the request, not the connection");
            d.close();
        }
    }

    @Test
    void aServerThatDiesMidRunFailsWhatIsInFlightAndEverythingAfter() throws Exception {
        try (FakeNbdServer s = new FakeNbdServer(conn -> {
            conn.handshake(false, SIZE, TFLAG_SEND_FLUSH);
            List<FakeNbdServer.Req> got = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                got.add(conn.request()); // all read, so the close below is a FIN, not a reset
            }
            for (int i = 0; i < 3; i++) {
                conn.simpleReply(got.get(i).cookie(), 0, new byte[(int) got.get(i).length()]);
            }
            conn.ch.close(); // gone, with requests unanswered
        })) {
            NbdBlockDevice d = open(s, false, 0);
            Tracker t = reads(d, 8);
            t.await("server died");
            assertEquals(8, t.ends.get());
            assertEquals(3, t.statuses.stream().filter(x -> x == 0).count(), "the three answered reads succeeded");
            assertEquals(5, t.statuses.stream().filter(x -> x == Errno.EIO).count());
            assertTrue(d.failure().getMessage().contains("closed the connection")
                || d.failure().getMessage().contains("closed in the middle"), d.failure().getMessage());
            Tracker later = reads(d, 3);
            later.await("after the failure");
            assertTrue(later.statuses.stream().allMatch(x -> x == Errno.EIO));
            assertEquals(Errno.EIO, SyncIo.flush(jmd.env().scheduler(), d));
            d.close();
        }
    }

    /**
     * The connection cut at a random moment while bios of several requests each (a 4 KiB maximum
     * payload) are in flight and being submitted: every bio ends exactly once (Bio.end asserts
     * it), with 0 or EIO, and none is left behind, whichever of the sender and the receiver finds
     * the break first.
     */
    @Test
    void cutsAtRandomMomentsEndEveryBioExactlyOnce() throws Exception {
        Random rnd = new Random(11);
        for (int round = 0; round < 25; round++) {
            boolean structured = rnd.nextBoolean();
            CountDownLatch serving = new CountDownLatch(1);
            FakeNbdServer s = new FakeNbdServer(conn -> {
                conn.handshake(structured, SIZE, TFLAG_SEND_FLUSH | TFLAG_SEND_FUA, 4096);
                serving.countDown();
                conn.serveCorrectly(new byte[(int) SIZE]);
            });
            NbdBlockDevice d = open(s, structured, 0);
            assertEquals(4096, d.exportInfo().maxPayloadBytes());
            assertTrue(serving.await(io.jmd.testutil.TestThreads.HANG.toSeconds(), TimeUnit.SECONDS));
            int n = 60;
            int cutAt = rnd.nextInt(n);
            Tracker t = new Tracker(n);
            for (int i = 0; i < n; i++) {
                if (i == cutAt) {
                    s.close(); // the server's socket closes: EOF or reset, at any point of any request
                }
                long at = (long) rnd.nextInt((int) (SIZE / 16384) - 1) * 16384;
                switch (i % 3) {
                    case 0 -> d.submit(Bio.read(at, MemorySegment.ofArray(new byte[16384]), null, t::end));
                    case 1 -> d.submit(Bio.write(at, MemorySegment.ofArray(new byte[16384]), Bio.FUA, null, t::end));
                    default -> d.submit(Bio.flush(null, t::end));
                }
            }
            t.await("round " + round);
            assertEquals(n, t.ends.get(), "round " + round);
            assertTrue(t.statuses.stream().allMatch(x -> x == 0 || x == Errno.EIO), t.statuses.toString());
            assertTrue(t.statuses.stream().filter(x -> x == 0).count() <= cutAt,
                "no bio submitted after the cut can succeed: " + t.statuses);
            assertNotNull(d.failure(), "after the cut the connection is known broken");
            assertEquals(0, d.inFlight());
            d.close();
        }
        assertEquals(List.of(), jmd.env().scheduler().checker().violations());
    }

    @Test
    void aSilentServerTripsTheReplyTimeout() throws Exception {
        try (FakeNbdServer s = new FakeNbdServer(conn -> {
            conn.handshake(true, SIZE, 0);
            while (conn.request() != null) {
                // never answers
            }
        })) {
            NbdBlockDevice d = open(s, true, 300_000_000L);
            long t0 = System.nanoTime();
            Tracker t = reads(d, 4);
            t.await("silent server");
            assertTrue(t.statuses.stream().allMatch(x -> x == Errno.EIO));
            assertTrue(d.failure().getMessage().contains("no reply to READ"), d.failure().getMessage());
            assertTrue(System.nanoTime() - t0 >= 300_000_000L, "not before the timeout");
            d.close();
        }
    }

    @Test
    void aReplyCutInTheMiddleOfItsDataFailsTheRead() throws Exception {
        try (FakeNbdServer s = new FakeNbdServer(conn -> {
            conn.handshake(false, SIZE, 0);
            FakeNbdServer.Req r = conn.request();
            conn.write(simple(SIMPLE_REPLY_MAGIC, 0, r.cookie()));
            conn.write(new byte[100]); // 100 of 4096 data bytes, then gone
            conn.ch.close();
        })) {
            NbdBlockDevice d = open(s, false, 0);
            Tracker t = reads(d, 1);
            t.await("cut reply");
            assertEquals(List.of(Errno.EIO), new ArrayList<>(t.statuses));
            d.close();
        }
    }

    /**
     * Fuzz: after a correct handshake the server answers with valid replies, replies with flipped
     * bytes, and noise, in a seeded random mix, then closes or goes silent. Whatever it says,
     * every bio ends exactly once, within the reply timeout, with 0 or an errno; the checker sees
     * no blocking in callbacks; the device closes cleanly.
     */
    @Test
    void fuzzedRepliesNeverHangAndEndEveryBioOnce() throws Exception {
        for (int seed = 0; seed < 60; seed++) {
            Random rnd = new Random(seed);
            boolean structured = rnd.nextBoolean();
            boolean closeAtEnd = rnd.nextBoolean();
            long fuzzSeed = rnd.nextLong();
            try (FakeNbdServer s = new FakeNbdServer(conn -> {
                boolean on = conn.handshake(structured, SIZE, TFLAG_SEND_FLUSH | TFLAG_SEND_TRIM);
                fuzzReplies(conn, on, new Random(fuzzSeed));
                if (closeAtEnd) {
                    conn.ch.close();
                } else {
                    while (conn.request() != null) {
                        // silent
                    }
                }
            })) {
                NbdBlockDevice d = open(s, structured, 400_000_000L);
                int n = 12;
                Tracker t = new Tracker(n);
                for (int i = 0; i < n; i++) {
                    long at = (long) rnd.nextInt((int) (SIZE / 4096) - 4) * 4096;
                    switch (i % 3) {
                        case 0 -> d.submit(Bio.read(at, MemorySegment.ofArray(new byte[4096 * (1 + i % 4)]), null, t::end));
                        case 1 -> d.submit(Bio.write(at, MemorySegment.ofArray(new byte[4096]), 0, null, t::end));
                        default -> d.submit(Bio.flush(null, t::end));
                    }
                }
                t.await("fuzz seed " + seed);
                assertEquals(n, t.ends.get(), "seed " + seed);
                d.close();
                assertEquals(0, d.callbackFailures());
            }
        }
        assertEquals(List.of(), jmd.env().scheduler().checker().violations());
    }

    /** Reads requests and answers each with a random mix of good, damaged and random bytes. */
    private static void fuzzReplies(FakeNbdServer.Conn conn, boolean structured, Random rnd) throws IOException {
        int replies = rnd.nextInt(12);
        for (int k = 0; k < replies; k++) {
            FakeNbdServer.Req r = conn.request();
            if (r == null) {
                return;
            }
            byte[] good = structured && r.type() == CMD_READ
                ? FakeNbdServer.Conn.chunk(REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, r.cookie(), offsetData(r.offset(), (int) r.length()))
                : cat(simple(SIMPLE_REPLY_MAGIC, rnd.nextInt(4) == 0 ? EIO : 0, r.cookie()),
                    r.type() == CMD_READ ? new byte[(int) r.length()] : new byte[0]);
            switch (rnd.nextInt(4)) {
                case 0, 1 -> conn.write(good);
                case 2 -> {
                    byte[] bad = good.clone();
                    for (int f = 0; f < 1 + rnd.nextInt(3); f++) {
                        bad[rnd.nextInt(Math.min(bad.length, 40))] ^= (byte) (1 << rnd.nextInt(8));
                    }
                    conn.write(bad);
                }
                default -> {
                    byte[] noise = new byte[rnd.nextInt(64)];
                    rnd.nextBytes(noise);
                    conn.write(noise);
                }
            }
        }
    }

    @Test
    void malformedHandshakesAreRefusedWithAReason() throws Exception {
        Map<String, FakeNbdServer.Script> cases = new java.util.LinkedHashMap<>();
        cases.put("is not an NBD server", c -> c.write(new byte[18]));
        cases.put("oldstyle", c -> c.write(ByteBuffer.allocate(18).putLong(NBDMAGIC).putLong(0x00420281861253L).array()));
        cases.put("reply to option STRUCTURED_REPLY while GO was asked", c -> {
            c.greeting(FLAG_FIXED_NEWSTYLE);
            c.read(4);
            c.option();
            c.optionReply(OPT_STRUCTURED_REPLY, REP_ERR_UNSUP, new byte[0]);
            c.option();
            c.optionReply(OPT_STRUCTURED_REPLY, REP_ACK, new byte[0]);
            c.read(1);
        });
        cases.put("option reply of 16777216 bytes", c -> {
            c.greeting(FLAG_FIXED_NEWSTYLE);
            c.read(4);
            c.option();
            c.write(ByteBuffer.allocate(20).putLong(OPTION_REPLY_MAGIC).putInt(OPT_STRUCTURED_REPLY).putInt(REP_ACK)
                .putInt(1 << 24).array());
            c.read(1);
        });
        cases.put("GO acknowledged without NBD_INFO_EXPORT", c -> {
            c.greeting(FLAG_FIXED_NEWSTYLE);
            c.read(4);
            c.option();
            c.optionReply(OPT_STRUCTURED_REPLY, REP_ACK, new byte[0]);
            c.option();
            c.optionReply(OPT_GO, REP_ACK, new byte[0]);
            c.read(1);
        });
        cases.put("impossible NBD_INFO_BLOCK_SIZE", c -> {
            c.greeting(FLAG_FIXED_NEWSTYLE);
            c.read(4);
            c.option();
            c.optionReply(OPT_STRUCTURED_REPLY, REP_ACK, new byte[0]);
            c.option();
            c.optionReply(OPT_GO, REP_INFO, ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE).putInt(3)
                .putInt(4096).putInt(1 << 20).array());
            c.read(1);
        });
        cases.put("did not finish the NBD handshake within 2 s", c -> {
            c.greeting(FLAG_FIXED_NEWSTYLE);
            c.read(4);
            c.read(1 << 20); // say nothing more
        });
        for (Map.Entry<String, FakeNbdServer.Script> e : cases.entrySet()) {
            try (FakeNbdServer s = new FakeNbdServer(e.getValue())) {
                IOException x = assertThrows(IOException.class, () -> open(s, true, 0), e.getKey());
                assertTrue(x.getMessage().contains(e.getKey()) && x.getMessage().startsWith(s.uri("x")),
                    "expected '" + e.getKey() + "' in: " + x.getMessage());
            }
        }
    }

    /**
     * A server with FLUSH but neither FUA nor WRITE_ZEROES, and without NBD_OPT_GO: the client
     * falls back to NBD_OPT_EXPORT_NAME, follows a FUA write with a FLUSH once the write is
     * answered, and writes zeroes itself.
     */
    @Test
    void emulationsForAnOldServer() throws Exception {
        byte[] disk = new byte[(int) SIZE];
        java.util.Arrays.fill(disk, (byte) 7);
        AtomicInteger goRefused = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean disc = new java.util.concurrent.atomic.AtomicBoolean();
        List<FakeNbdServer.Req> seen = new ArrayList<>();
        byte[] data = new byte[8192];
        new Random(1).nextBytes(data);
        try (FakeNbdServer s = new FakeNbdServer(conn -> {
            conn.greeting(FLAG_FIXED_NEWSTYLE);
            conn.read(4);
            while (true) {
                FakeNbdServer.Conn.Opt o = conn.option();
                if (o.option() == OPT_EXPORT_NAME) {
                    conn.write(ByteBuffer.allocate(134).putLong(0, SIZE).putShort(8, (short) (TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH)));
                    break;
                }
                if (o.option() == OPT_GO) {
                    goRefused.incrementAndGet();
                }
                conn.optionReply(o.option(), REP_ERR_UNSUP, new byte[0]);
            }
            seen.addAll(conn.serveCorrectly(disk));
            disc.set(conn.discReceived);
        })) {
            NbdBlockDevice d = open(s, true, 0);
            assertEquals(SIZE, d.sizeBytes());
            assertEquals(0, SyncIo.write(jmd.env().scheduler(), d, 4096, MemorySegment.ofArray(data), Bio.FUA));
            assertEquals(0, SyncIo.submitAndWait(jmd.env().scheduler(), d, Bio.Op.WRITE_ZEROES, 65536, null, 3 << 18, 0));
            assertEquals(0, SyncIo.submitAndWait(jmd.env().scheduler(), d, Bio.Op.DISCARD, 0, null, 4096, 0),
                "DISCARD without TRIM: a hint, done as nothing");
            d.close();
            s.join();
        }
        assertNotNull(seen);
        assertEquals(1, goRefused.get());
        assertTrue(disc.get(), "close() says NBD_CMD_DISC before it hangs up");
        List<Integer> types = seen.stream().map(FakeNbdServer.Req::type).toList();
        assertEquals(List.of(CMD_WRITE, CMD_FLUSH, CMD_WRITE), types, "write, its flush, then zeroes as one WRITE");
        assertEquals(0, seen.get(0).flags() & CMD_FLAG_FUA, "no FUA flag to a server that has none");
        assertTrue(java.util.Arrays.equals(data, java.util.Arrays.copyOfRange(disk, 4096, 4096 + 8192)));
        for (int i = 65536; i < 65536 + (3 << 18); i++) {
            if (disk[i] != 0) {
                fail("byte " + i + " not zeroed");
            }
        }
        assertEquals(7, disk[65536 + (3 << 18)]);
    }
}

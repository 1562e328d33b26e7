package io.jmd.nbd;

import io.jmd.block.Bio;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.jmd.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransmissionTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);
    private ServerFixture fx;

    @BeforeEach
    void start() throws IOException {
        fx = ServerFixture.start(jmd.env());
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void writeThenReadRoundTripsWithSimpleAndStructuredReplies() throws IOException {
        byte[] data = random(1 << 20, 1);
        for (boolean structured : new boolean[] {false, true}) {
            try (RawClient c = fx.client("disk", structured, false)) {
                assertEquals(ServerFixture.SIZE_BYTES, c.exportSize);
                assertEquals(512, c.minBlock);
                c.write(1, 4096, data, CMD_FLAG_FUA);
                RawClient.Response w = c.response();
                assertEquals(1, w.cookie());
                assertEquals(0, w.error());
                c.request(0, CMD_READ, 2, 4096, data.length);
                RawClient.Response r = c.response();
                assertEquals(structured, r.structured());
                assertArrayEquals(data, r.data());
                c.request(0, CMD_DISC, 3, 0, 0);
                assertTrue(c.closedByServer());
            }
        }
        assertArrayEquals(data, fx.device.readDirect(4096, data.length));
        assertTrue(fx.device.fuaBios.get() >= 2, "FUA reaches the device");
    }

    @Test
    void malformedRequestsGetTheErrorsTheSpecNamesAndTheConnectionGoesOn() throws IOException {
        long size = ServerFixture.SIZE_BYTES;
        try (RawClient c = fx.client("disk", false, false)) {
            expect(c, EINVAL, 0, CMD_READ, size - 512, 1024);                   // read past end
            expect(c, EINVAL, 0, CMD_READ, -512, 512);                          // offset >= 2^63
            expect(c, EINVAL, 0, CMD_READ, 100, 512);                           // misaligned offset
            expect(c, EINVAL, 0, CMD_READ, 0, 100);                             // misaligned length
            expect(c, EINVAL, 0, CMD_READ, 0, 0);                               // zero length
            expect(c, EINVAL, 0, CMD_TRIM, size, 512);                          // trim past end
            expect(c, ENOSPC, 0, CMD_WRITE_ZEROES, size - 512, 1024);           // zeroes past end
            expect(c, EINVAL, 0, 99, 0, 512);                                   // unknown command
            expect(c, EINVAL, 0x40, CMD_READ, 0, 512);                          // unknown flag
            expect(c, EINVAL, CMD_FLAG_PAYLOAD_LEN, CMD_READ, 0, 512);          // extended-headers flag
            expect(c, EINVAL, CMD_FLAG_NO_HOLE, CMD_TRIM, 0, 512); // flag of another command
            expect(c, EINVAL, CMD_FLAG_DF, CMD_READ, 0, 512);                   // DF without structured replies
            expect(c, EINVAL, CMD_FLAG_REQ_ONE, CMD_READ, 0, 512);
            expect(c, EINVAL, 0, CMD_FLUSH, 512, 0);                            // flush with an offset
            expect(c, EINVAL, 0, CMD_BLOCK_STATUS, 0, 512);                     // no meta context
            expect(c, EOVERFLOW, 0, CMD_READ, 0, (32 << 20) + 512);             // payload too large
            // A refused WRITE's payload is skipped, so the next request is read in step.
            c.write(10, size - 512, new byte[1024], 0);
            assertEquals(ENOSPC, c.response().error());
            c.write(11, 1, new byte[512], 0);
            assertEquals(EINVAL, c.response().error());
            c.request(0, CMD_READ, 12, 0, 512);
            RawClient.Response ok = c.response();
            assertEquals(0, ok.error());
            assertEquals(512, ok.data().length);
        }
        try (RawClient c = fx.client("ro", true, false)) {
            c.write(20, 0, new byte[512], 0);
            assertEquals(EPERM, c.response().error());
            expect(c, EPERM, 0, CMD_TRIM, 0, 512);
            expect(c, EPERM, 0, CMD_WRITE_ZEROES, 0, 512);
            expect(c, EINVAL, 0, CMD_READ, ServerFixture.RO_SIZE_BYTES, 512);
            c.request(CMD_FLAG_FUA, CMD_READ, 21, 0, 512);
            assertEquals(0, c.response().error(), "FUA is accepted on any command");
        }
    }

    private static void expect(RawClient c, int error, int flags, int type, long offset, long length) throws IOException {
        long cookie = 1000 + type * 7L + flags;
        c.request(flags, type, cookie, offset, length);
        RawClient.Response r = c.response();
        assertEquals(cookie, r.cookie());
        assertEquals(error, r.error(), () -> commandName(type) + " flags " + flags + " at " + offset + "+" + length);
    }

    @Test
    void repliesArePipelinedAndComeOutOfOrder() throws IOException {
        fx.device.holdWhen(b -> b.op == Bio.Op.READ && b.offsetBytes == 0);
        try (RawClient c = fx.client("disk", true, false)) {
            c.request(0, CMD_READ, 1, 0, 4096);         // held by the device
            c.write(2, 65536, random(4096, 2), 0);
            c.request(0, CMD_READ, 3, 65536, 4096);
            c.request(0, CMD_FLUSH, 4, 0, 0);
            List<Long> order = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                order.add(c.response().cookie());
            }
            assertTrue(!order.contains(1L), "the held read is answered last: " + order);
            fx.device.releaseHeld();
            assertEquals(1L, c.response().cookie());
        }
    }

    @Test
    void trimZeroesAndBlockStatusReportHolesTruthfully() throws IOException {
        try (RawClient c = fx.client("disk", true, true)) {
            c.write(1, 0, random(256 << 10, 3), 0);
            c.response();
            c.request(0, CMD_BLOCK_STATUS, 2, 0, 1 << 20);
            RawClient.Response bs = c.response();
            assertEquals(2, bs.extents().size());
            assertArrayEquals(new long[] {256 << 10, 0}, bs.extents().get(0));
            assertArrayEquals(new long[] {768 << 10, STATE_HOLE | STATE_ZERO}, bs.extents().get(1));

            c.request(0, CMD_TRIM, 3, 0, 128 << 10);
            assertEquals(0, c.response().error());
            c.request(CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 4, 128 << 10, 64 << 10);
            assertEquals(0, c.response().error());
            c.request(CMD_FLAG_FAST_ZERO, CMD_WRITE_ZEROES, 5, 0, 4096);
            assertEquals(ENOTSUP, c.response().error());
            c.request(CMD_FLAG_REQ_ONE, CMD_BLOCK_STATUS, 6, 0, 1 << 20);
            RawClient.Response one = c.response();
            assertEquals(1, one.extents().size());
            assertArrayEquals(new long[] {128 << 10, STATE_HOLE | STATE_ZERO}, one.extents().get(0));
            c.request(0, CMD_READ, 7, 128 << 10, 64 << 10);
            assertArrayEquals(new byte[64 << 10], c.response().data());
            c.request(0, CMD_CACHE, 8, 0, 1 << 20);
            assertEquals(0, c.response().error());
        }
        assertEquals(1, fx.device.noUnmapZeroes.get());
        assertEquals(1, fx.device.discards.get());
    }

    @Test
    void deviceErrorsBecomeEioInBothReplyStyles() throws IOException {
        fx.device.failWhen(b -> b.offsetBytes == 8192);
        for (boolean structured : new boolean[] {false, true}) {
            try (RawClient c = fx.client("disk", structured, false)) {
                c.request(0, CMD_READ, 1, 8192, 512);
                RawClient.Response r = c.response();
                assertEquals(EIO, r.error());
                assertEquals(0, r.data().length);
                c.write(2, 8192, new byte[512], 0);
                assertEquals(EIO, c.response().error());
                c.request(0, CMD_READ, 3, 0, 512);
                assertEquals(0, c.response().error());
            }
        }
    }

    @Test
    void discAnswersInFlightRequestsBeforeClosing() throws IOException {
        fx.device.holdWhen(b -> b.op == Bio.Op.WRITE);
        try (RawClient c = fx.client("disk", false, false)) {
            c.write(1, 0, random(4096, 4), 0);
            c.request(0, CMD_DISC, 2, 0, 0);
            while (fx.device.heldCount() == 0) {
                Thread.onSpinWait();
            }
            fx.device.releaseHeld();
            assertEquals(1, c.response().cookie());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void flushOnOneConnectionCoversWritesRepliedOnAnother() throws IOException {
        byte[] data = random(65536, 5);
        try (RawClient a = fx.client("disk", false, false); RawClient b = fx.client("disk", true, false)) {
            assertTrue((a.transmissionFlags & TFLAG_CAN_MULTI_CONN) != 0);
            a.write(1, 1 << 20, data, 0);
            assertEquals(0, a.response().error());
            long flushesBefore = fx.device.flushes.get();
            b.request(0, CMD_FLUSH, 2, 0, 0);
            assertEquals(0, b.response().error());
            assertEquals(flushesBefore + 1, fx.device.flushes.get());
            b.request(0, CMD_READ, 3, 1 << 20, data.length);
            assertArrayEquals(data, b.response().data());
        }
    }

    @Test
    void badRequestMagicIsAHardDisconnectThatSparesOtherConnections() throws IOException {
        try (RawClient bad = fx.client("disk", false, false); RawClient good = fx.client("disk", false, false)) {
            bad.write(java.nio.ByteBuffer.allocate(28).putInt(0, 0xdeadbeef));
            assertTrue(bad.closedByServer());
            good.request(0, CMD_READ, 1, 0, 512);
            assertEquals(0, good.response().error());
        }
    }
}

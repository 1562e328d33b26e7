package io.jmd.nbd;

import io.jmd.Env;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;

import static io.jmd.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that sends requests without reading replies must meet backpressure: the server stops
 * reading its socket at the admission bound, and its memory stays within that bound.
 */
class BackpressureTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    private static final int SLOTS = 16;
    private static final long BYTES = 4L << 20;

    private ServerFixture start() throws IOException {
        return ServerFixture.start(jmd.env(), NbdLimits.defaults().withRequestsPerConnection(SLOTS)
            .withMaxPayloadBytes(1 << 20).withInflightBytesPerConnection(BYTES));
    }

    /** Waits (bounded, without spinning a core the server needs) until {@code condition} holds. */
    private static void eventually(String what, java.util.function.BooleanSupplier condition) {
        io.jmd.testutil.TestThreads.eventually(what, condition);
    }

    /** Sends {@code count} READs of {@code length}, never reading; returns how many went out. */
    private static int flood(RawClient c, int count, int length) throws IOException {
        c.channel.configureBlocking(false);
        int sent = 0;
        ByteBuffer pending = null;
        long lastProgress = System.nanoTime();
        while (sent < count) {
            if (pending == null) {
                pending = RequestDescriptor.write(0, CMD_READ, sent, (long) (sent % 64) * length, length);
                c.expectRead(sent, length);
            }
            // stuck only when a write made no progress 300 ms after the last that did: a stall of
            // this thread between two writes is not the socket being full
            if (c.channel.write(pending) > 0) {
                lastProgress = System.nanoTime();
            } else if (System.nanoTime() - lastProgress >= 300_000_000L) {
                break;
            }
            if (!pending.hasRemaining()) {
                pending = null;
                sent++;
            }
        }
        if (pending != null) {
            c.channel.configureBlocking(true);
            c.write(pending);
            sent++;
        }
        c.channel.configureBlocking(true);
        return sent;
    }

    @Test
    void slotsStopTheReaderWhileTheDeviceIsStuck() throws IOException {
        try (ServerFixture fx = start(); RawClient c = fx.client("disk", false, false)) {
            fx.device.holdWhen(b -> true);
            int sent = flood(c, 2000, 4096);
            assertEquals(2000, sent, "small requests all fit in the socket buffers");
            eventually("the connection is at its slot bound", () -> fx.device.heldCount() == SLOTS);
            Admission a = admission(fx);
            assertEquals(SLOTS, a.inflightRequests());
            assertTrue(jmd.env().budget().chargedBytes() <= SLOTS * 4096L,
                "memory held " + jmd.env().budget().chargedBytes());
            fx.device.releaseHeld();
            readAll(c, sent);
        }
    }

    @Test
    void payloadBytesStayWithinTheBoundWhenTheClientDoesNotRead() throws IOException {
        Env env = jmd.env();
        try (ServerFixture fx = start(); RawClient c = fx.client("disk", true, false)) {
            c.channel.socket().setReceiveBufferSize(64 << 10);
            int sent = flood(c, 200, 1 << 20);
            eventually("the writer is stuck on the socket and the reader on admission",
                () -> admission(fx) != null && admission(fx).inflightBytes() >= BYTES - (1 << 20));
            long held = admission(fx).inflightBytes();
            assertTrue(held <= BYTES, "in-flight payload " + held);
            assertTrue(env.budget().chargedBytes() <= BYTES + NbdLimits.BLOCK_STATUS_BUFFER_BYTES,
                "budget charged " + env.budget().chargedBytes());
            readAll(c, sent);
            assertTrue(env.budget().chargedBytes() <= BYTES + NbdLimits.BLOCK_STATUS_BUFFER_BYTES);
        }
    }

    /** The admission of the fixture's only connection, once its handshake is over. */
    private static Admission admission(ServerFixture fx) {
        java.util.List<Connection> live = fx.server.connections();
        return live.isEmpty() ? null : live.getFirst().admission();
    }

    private static void readAll(RawClient c, int sent) throws IOException {
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < sent; i++) {
            RawClient.Response r = c.response();
            assertEquals(0, r.error());
            assertTrue(seen.add(r.cookie()), "cookie answered twice: " + r.cookie());
        }
        assertEquals(sent, seen.size());
    }
}

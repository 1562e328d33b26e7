package io.jmd.nbd;

import io.jmd.block.Bio;
import io.jmd.sync.JmdThread;
import io.jmd.sync.ThreadRole;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.EnumSet;

import static io.jmd.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShutdownTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    private static void eventually(String what, java.util.function.BooleanSupplier condition) {
        io.jmd.testutil.TestThreads.eventually(what, condition);
    }

    private static boolean refused(int port) {
        try (SocketChannel s = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (java.net.SocketException e) {
            // a connect that reached the backlog as the listener closed is reset: refused too
            if (String.valueOf(e.getMessage()).contains("reset")) {
                return true;
            }
            throw new AssertionError(e);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void closeStopsAcceptingFinishesInFlightRequestsThenFlushes() throws IOException {
        // close() waits this long for the held write: longer than any stall of the test thread
        // between starting the close and releasing the write, which would fail the request
        ServerFixture fx = ServerFixture.start(jmd.env(), NbdLimits.defaults(), 60_000_000_000L);
        int port = fx.server.tcpPort();
        fx.device.holdWhen(b -> b.op == Bio.Op.WRITE);
        try (RawClient c = fx.client("disk", true, false)) {
            c.write(1, 0, new byte[4096], 0);
            eventually("the write is at the device", () -> fx.device.heldCount() == 1);
            JmdThread closer = jmd.env().scheduler().start("test-closer", EnumSet.noneOf(ThreadRole.class), fx::close);
            eventually("new connections are refused", () -> refused(port));
            long flushes = fx.device.flushes.get();
            fx.device.releaseHeld();
            RawClient.Response r = c.response();
            assertEquals(1, r.cookie());
            assertEquals(0, r.error());
            assertTrue(c.closedByServer());
            jmd.env().scheduler().join(closer);
            assertEquals(flushes + 1, fx.device.flushes.get(), "close flushes the export");
            assertTrue(fx.server.awaitTermination(0));
            assertEquals(0, fx.server.connectionCount());
        }
    }

    @Test
    void aClientThatNeverReadsCannotHoldShutdownPastItsTimeout() throws IOException {
        TestDevice d = new TestDevice(jmd.env(), "mem", 64L << 20);
        NbdServer s = NbdServer.builder(jmd.env())
            .limits(NbdLimits.defaults().withShutdownTimeoutNanos(300_000_000L))
            .export("disk", null, d, false)
            .listenTcp("127.0.0.1", 0)
            .start();
        try (RawClient c = RawClient.connect(s).negotiate("disk", true, false)) {
            c.channel.socket().setReceiveBufferSize(16 << 10);
            for (int i = 0; i < 64; i++) {
                c.request(0, CMD_READ, i, 0, 1 << 20);
            }
            long start = System.nanoTime();
            s.close();
            // 300 ms plus whatever a loaded machine adds, but less than the default timeout: a close
            // that ignored the configured one would wait that long
            assertTrue(System.nanoTime() - start < NbdLimits.SHUTDOWN_TIMEOUT_NANOS_DEFAULT - 1_000_000_000L, "close waited too long");
            assertTrue(s.awaitTermination(0));
        }
        d.close();
    }

    @Test
    void aSilentClientIsDisconnectedAfterTheHandshakeTimeout() throws IOException {
        TestDevice d = new TestDevice(jmd.env(), "mem", 1L << 20);
        NbdServer s = NbdServer.builder(jmd.env())
            // the prompt client's whole handshake must fit in it, however loaded the machine
            .limits(NbdLimits.defaults().withHandshakeTimeoutNanos(2_000_000_000L))
            .export("disk", null, d, false)
            .listenTcp("127.0.0.1", 0)
            .start();
        try (RawClient silent = RawClient.connect(s); RawClient prompt = RawClient.connect(s)) {
            silent.greeting();
            prompt.negotiate("disk", false, false);
            assertTrue(silent.closedByServer(), "the silent client is dropped");
            prompt.request(0, CMD_FLUSH, 1, 0, 0);
            assertEquals(0, prompt.response().error(), "a client in transmission is not");
        } finally {
            s.close();
            d.close();
        }
    }

    @Test
    void handshakingClientsAreRefusedOnceShuttingDown() throws IOException {
        ServerFixture fx = ServerFixture.start(jmd.env());
        RawClient c = RawClient.connect(fx.server);
        c.greeting();
        c.clientFlags(FLAG_FIXED_NEWSTYLE);
        fx.close();
        assertTrue(c.closedByServer(), "close ends connections still in the handshake");
        c.close();
    }
}

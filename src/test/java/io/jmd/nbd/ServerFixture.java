package io.jmd.nbd;

import io.jmd.Env;

import java.io.IOException;

/** An in-process server on an ephemeral TCP port with two exports over {@link TestDevice}s. */
final class ServerFixture implements AutoCloseable {
    static final long SIZE_BYTES = 64L << 20;
    static final long RO_SIZE_BYTES = 4L << 20;

    final Env env;
    final TestDevice device;
    final TestDevice readOnlyDevice;
    final NbdServer server;

    private ServerFixture(Env env, TestDevice device, TestDevice readOnlyDevice, NbdServer server) {
        this.env = env;
        this.device = device;
        this.readOnlyDevice = readOnlyDevice;
        this.server = server;
    }

    static ServerFixture start(Env env) throws IOException {
        return start(env, NbdLimits.defaults());
    }

    static ServerFixture start(Env env, NbdLimits limits) throws IOException {
        return start(env, limits, 5_000_000_000L);
    }

    static ServerFixture start(Env env, NbdLimits limits, long shutdownTimeoutNanos) throws IOException {
        TestDevice d = new TestDevice(env, "mem0", SIZE_BYTES);
        TestDevice ro = new TestDevice(env, "mem1", RO_SIZE_BYTES);
        NbdServer s = NbdServer.builder(env)
            .limits(limits.withShutdownTimeoutNanos(shutdownTimeoutNanos))
            .export("disk", "a test disk", d, false)
            .export("ro", null, ro, true)
            .listenTcp("127.0.0.1", 0)
            .start();
        return new ServerFixture(env, d, ro, s);
    }

    RawClient client(String export, boolean structured, boolean meta) throws IOException {
        return RawClient.connect(server).negotiate(export, structured, meta);
    }

    String uri(String export) {
        return "nbd://127.0.0.1:" + server.tcpPort() + "/" + export;
    }

    @Override
    public void close() {
        server.close();
        device.close();
        readOnlyDevice.close();
    }
}

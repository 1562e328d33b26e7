package io.jmd.nbd;

import io.jmd.Env;

import java.nio.file.Path;

/**
 * A stand-in for {@code jmd serve} until the CLI wires it: serves a {@link TestDevice} the way a
 * launched server would, so captive-mode clients (nbdinfo {@code [ ... ]}, nbd_connect_command)
 * can start it as a child process.
 *
 * <pre>java -cp target/classes:target/test-classes io.jmd.nbd.ServeMain SIZE_BYTES MODE [ro]
 *   MODE: tcp:PORT | unix:PATH | stdio | activation</pre>
 */
public final class ServeMain {
    private ServeMain() {
    }

    public static void main(String[] args) throws Exception {
        long size = Long.parseLong(args[0]);
        String mode = args[1];
        boolean readOnly = args.length > 2 && args[2].equals("ro");
        Env env = Env.production(256L << 20);
        TestDevice device = new TestDevice(env, "mem", size);
        NbdServer.Builder b = NbdServer.builder(env).export("disk", "jmd test export", device, readOnly);
        if (mode.startsWith("tcp:")) {
            b.listenTcp("127.0.0.1", Integer.parseInt(mode.substring(4)));
        } else if (mode.startsWith("unix:")) {
            b.listenUnix(Path.of(mode.substring(5)));
        } else if (mode.equals("stdio")) {
            b.serveStdio();
        } else if (mode.equals("activation")) {
            b.socketActivation();
        } else {
            throw new IllegalArgumentException("unknown mode " + mode);
        }
        NbdServer server = b.start();
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("serve-main-shutdown").unstarted(server::close));
        server.awaitTermination();
        server.close();
        env.close();
    }
}

package io.jmd.cli;

import io.jmd.Env;
import io.jmd.md.MdArray;
import io.jmd.nbd.NbdServer;
import sun.misc.Signal;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs NBD exports of assembled arrays until SIGTERM/SIGINT (or, for stdio, until the client
 * leaves); then shuts down in md's order: the server finishes in-flight requests and flushes,
 * then each array stops (marked clean when idle).
 */
final class Serving {
    /** One array to export, under an NBD export name. */
    record Exported(String exportName, MdArray array, boolean readOnly) {
    }

    /** Where to listen. */
    record Listen(String bind, int port, Path unix, boolean stdio, boolean socketActivation) {
    }

    private Serving() {
    }

    /** Serves until told to stop; closes the arrays. Messages go to {@code log} (stderr). */
    static void serve(Env env, List<Exported> exports, Listen listen, PrintStream log, Runnable onStarted) throws Exception {
        NbdServer.Builder b = NbdServer.builder(env);
        for (Exported e : exports) {
            MdArray a = e.array();
            b.export(e.exportName(), a.superblock().setName().text() + " " + a.personality().levelName() + " "
                + a.personality().status(), a, e.readOnly());
        }
        if (listen.stdio()) {
            b.serveStdio();
        } else if (listen.socketActivation()) {
            b.socketActivation();
        } else if (listen.unix() != null) {
            b.listenUnix(listen.unix());
        } else {
            b.listenTcp(listen.bind(), listen.port());
        }
        NbdServer server;
        try {
            server = b.start();
        } catch (Exception e) {
            closeArrays(exports, log);
            throw new CliException("cannot serve: " + e.getMessage());
        }
        List<Signal> seen = new ArrayList<>();
        for (String sig : List.of("TERM", "INT", "HUP")) {
            Signal.handle(new Signal(sig), s -> {
                log.println("jmd: SIG" + s.getName() + ": finishing in-flight requests, flushing, stopping arrays");
                seen.add(s);
                server.close();
            });
        }
        onStarted.run();
        server.awaitTermination();
        server.close();
        closeArrays(exports, log);
    }

    private static void closeArrays(List<Exported> exports, PrintStream log) {
        for (Exported e : exports) {
            MdArray a = e.array();
            a.close();
            log.println("jmd: array " + a.name() + " stopped" + (a.isReadOnly() ? " (read-only)" : a.isClean() ? ", clean" : ""));
        }
    }

    /** The URI a client uses for an export. */
    static String uri(Listen listen, String exportName) {
        if (listen.unix() != null) {
            return "nbd+unix:///" + exportName + "?socket=" + listen.unix().toAbsolutePath();
        }
        String host = listen.bind().contains(":") ? "[" + listen.bind() + "]" : listen.bind();
        return "nbd://" + host + ":" + listen.port() + "/" + exportName;
    }
}

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

    /**
     * The control socket: {@code path} null for the default one (skipped with a warning when a live
     * server holds it), or an explicit one (an error when it cannot be had). Sync speed limits in
     * KiB/s for every array (0: md's defaults).
     */
    record Control(Path path, long syncSpeedMinKib, long syncSpeedMaxKib) {
        static final Control DEFAULT = new Control(null, 0, 0);
    }

    /** Serves until told to stop; closes the arrays. Messages go to {@code log} (stderr). */
    static void serve(Env env, List<Exported> exports, Listen listen, PrintStream log, Runnable onStarted) throws Exception {
        serve(env, exports, listen, Control.DEFAULT, log, onStarted);
    }

    static void serve(Env env, List<Exported> exports, Listen listen, Control control, PrintStream log, Runnable onStarted)
            throws Exception {
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
        io.jmd.control.ControlServer controlServer;
        try {
            controlServer = startControl(env, exports, control, log);
        } catch (Exception e) {
            server.close();
            closeArrays(exports, log);
            throw e;
        }
        onStarted.run();
        server.awaitTermination();
        server.close();
        if (controlServer != null) {
            controlServer.close();
        }
        closeArrays(exports, log);
    }

    /** Opens the control socket (add/fail/remove/status/monitor act through it) and logs array events. */
    private static io.jmd.control.ControlServer startControl(Env env, List<Exported> exports, Control control, PrintStream log)
            throws Exception {
        List<MdArray> arrays = exports.stream().map(Exported::array).toList();
        for (MdArray a : arrays) {
            a.redundancy().setOpener(CliSupport.opener(env));
            if (control.syncSpeedMaxKib() > 0) {
                a.redundancy().engine().setSpeedLimits(control.syncSpeedMinKib(), control.syncSpeedMaxKib());
            }
        }
        Path path = control.path() != null ? control.path()
            : io.jmd.control.ControlPaths.forArray(System.getenv(), exports.get(0).exportName());
        if (control.path() == null && isLive(path)) {
            log.println("jmd: warning: " + path + " is the control socket of another jmd serve: no control socket here"
                + " (give --control=PATH)");
            return null;
        }
        io.jmd.control.ControlServer s;
        try {
            s = io.jmd.control.ControlServer.start(env, arrays, path);
        } catch (java.io.IOException e) {
            if (control.path() != null) {
                throw new CliException(e.getMessage());
            }
            log.println("jmd: warning: " + e.getMessage() + ": no control socket");
            return null;
        }
        s.logEvents(log);
        log.println("jmd: control socket " + path + " (jmd status, fail, add, remove, re-add, action, monitor)");
        return s;
    }

    private static boolean isLive(Path socket) {
        if (!java.nio.file.Files.exists(socket)) {
            return false;
        }
        try (var c = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            c.connect(java.net.UnixDomainSocketAddress.of(socket));
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
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

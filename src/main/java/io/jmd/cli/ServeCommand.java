package io.jmd.cli;

import io.jmd.Env;
import io.jmd.md.Assembler;
import io.jmd.md.MdArray;
import io.jmd.nbd.NbdServer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jmd serve}: assembles the array MEMBERs form (or every array of a config file) and
 * exports it over NBD until SIGTERM. Logs go to stderr; with --stdio, stdout carries the protocol.
 */
@Command(name = "serve", description = "Assemble an array and export it over NBD (TCP, unix socket, stdio or socket activation).")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--bind", defaultValue = NbdServer.DEFAULT_HOST, description = "address to listen on (default: ${DEFAULT-VALUE})")
    String bind;

    @Option(names = {"-p", "--port"}, defaultValue = "" + NbdServer.DEFAULT_PORT, description = "TCP port (default: ${DEFAULT-VALUE})")
    int port;

    @ArgGroup(exclusive = true)
    Transport transport = new Transport();

    static final class Transport {
        @Option(names = "--unix", paramLabel = "PATH", description = "listen on a unix socket instead of TCP")
        Path unix;

        @Option(names = "--stdio", description = "serve one client on stdin/stdout (for captive launching)")
        boolean stdio;

        @Option(names = "--socket-activation", description = "serve on the socket passed by systemd (LISTEN_FDS); also automatic when LISTEN_FDS is set")
        boolean socketActivation;
    }

    @Option(names = {"-r", "--read-only", "--readonly"}, description = "export read-only: nothing is written to any member")
    boolean readOnly;

    @Option(names = {"-R", "--run"}, description = "start even if members are missing (degraded)")
    boolean run;

    @Option(names = {"-f", "--force"}, description = "start a dirty degraded raid4/5/6 anyway, marked clean (data corruption possible)")
    boolean force;

    @Option(names = {"-N", "--export-name"}, description = "NBD export name (default: the array's name)")
    String exportName;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
        description = "serve every array in FILE: lines 'ARRAY <export-name> devices=<m1>,<m2>[,...] [read-only] [run]'")
    Path config;

    @Option(names = "--control", paramLabel = "PATH",
        description = "control socket for jmd status/fail/add/remove/monitor (default: $XDG_RUNTIME_DIR/jmd/NAME.ctl or /tmp/jmd-$USER/NAME.ctl)")
    Path control;

    @Option(names = "--sync-speed-min", paramLabel = "KIB", defaultValue = "1000",
        description = "resync/recovery speed always allowed, KiB/s (md's speed_limit_min; default: ${DEFAULT-VALUE})")
    long syncSpeedMin;

    @Option(names = "--sync-speed-max", paramLabel = "KIB", defaultValue = "200000",
        description = "resync/recovery speed limit, KiB/s (md's speed_limit_max; default: ${DEFAULT-VALUE})")
    long syncSpeedMax;

    @Parameters(arity = "0..*", paramLabel = "MEMBER", description = "member files, block devices or NBD exports (nbd://..., nbd+unix://...) of one array")
    List<String> members = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (syncSpeedMin < 0 || syncSpeedMax <= 0) {
            throw new CliException("--sync-speed-min must be >= 0 and --sync-speed-max > 0", 2);
        }
        List<ServeConfig.Entry> entries = entries();
        boolean activation = transport.socketActivation
            || io.jmd.nbd.SocketActivation.isActivated() && !transport.stdio && transport.unix == null;
        Serving.Listen listen = new Serving.Listen(bind, port, transport.unix, transport.stdio, activation);
        try (Env env = CliSupport.env()) {
            List<Serving.Exported> exports = new ArrayList<>();
            try {
                for (ServeConfig.Entry e : entries) {
                    MdArray a = Assembler.assemble(env, CliSupport.opener(env), e.members(), new Assembler.Options(e.run(), e.readOnly(), force));
                    for (String note : a.notes()) {
                        System.err.println("jmd: " + a.name() + ": " + note);
                    }
                    exports.add(new Serving.Exported(e.exportName() != null ? e.exportName() : a.name(), a, e.readOnly()));
                }
            } catch (Exception ex) {
                exports.forEach(x -> x.array().close());
                throw ex;
            }
            Serving.Control ctl = new Serving.Control(control, syncSpeedMin, syncSpeedMax);
            Serving.serve(env, exports, listen, ctl, System.err, () -> {
                for (Serving.Exported x : exports) {
                    String where = listen.stdio() ? "stdio" : listen.socketActivation() ? "the activation socket"
                        : Serving.uri(listen, x.exportName());
                    System.err.println("jmd: serving " + x.array().name() + " (" + x.array().personality().levelName() + " "
                        + x.array().personality().status() + ", " + x.array().sizeBytes() + " bytes"
                        + (x.readOnly() ? ", read-only" : "") + ") at " + where);
                }
            });
        }
        return 0;
    }

    private List<ServeConfig.Entry> entries() throws CliException, IOException {
        if (config != null && !members.isEmpty()) {
            throw new CliException("give either --config or MEMBERs, not both", 2);
        }
        if (config != null) {
            if (!Files.isRegularFile(config)) {
                throw new CliException(config + ": no such config file");
            }
            return ServeConfig.parse(config, Files.readAllLines(config), readOnly, run);
        }
        if (members.isEmpty()) {
            throw new CliException("no members given (jmd serve MEMBER..., or --config FILE)", 2);
        }
        return List.of(new ServeConfig.Entry(exportName, members, readOnly, run));
    }
}

package io.jmd.kernel;

import io.jmd.cli.Main;
import io.jmd.testutil.ExternalTool;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * jmd's CLI run in this JVM (Main.run), for the short commands (create, detail): a child JVM per
 * command would cost more than the VM's time per array on a two-core machine. jmd serve runs as
 * its own process ({@link JmdServer}), where stopping on SIGTERM is part of what is tested.
 * Not for concurrent use: it swaps System.out and System.err while the command runs.
 */
final class JmdCli {
    private JmdCli() {
    }

    static ExternalTool.Result run(List<String> args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code;
        try (PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
             PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            System.setOut(po);
            System.setErr(pe);
            code = Main.run(args.toArray(String[]::new));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        List<String> command = new java.util.ArrayList<>(List.of("jmd"));
        command.addAll(args);
        return new ExternalTool.Result(command, code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }
}

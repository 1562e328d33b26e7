package io.jmd.nbd;

import io.jmd.testutil.ExternalTool;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** Real NBD clients run as processes for the interop tests. */
final class Clients {
    static final Duration TIMEOUT = Duration.ofSeconds(120);

    private Clients() {
    }

    static ExternalTool.Result run(String tool, String... args) {
        return ExternalTool.run(TIMEOUT, tool, args).assertSuccess();
    }

    /**
     * nbdsh runs "python3 -m nbd" from PATH; python3-libnbd lives in the system python, which a
     * pyenv or venv earlier on PATH would hide. So /usr/bin goes first for it.
     */
    static ExternalTool.Result nbdsh(String... args) {
        List<String> command = new ArrayList<>();
        command.add(ExternalTool.require("nbdsh").toString());
        command.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("jmd-nbdsh-", ".out");
            Path err = Files.createTempFile("jmd-nbdsh-", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
                pb.environment().put("PATH", "/usr/bin:/bin:" + System.getenv().getOrDefault("PATH", ""));
                Process p = pb.start();
                if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly().waitFor();
                    fail("nbdsh did not finish within " + TIMEOUT);
                }
                return new ExternalTool.Result(command, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8)).assertSuccess();
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            return fail("could not run nbdsh: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted", e);
        }
    }

    /** The command that starts {@link ServeMain} in a child JVM (the stand-in for jmd serve). */
    static List<String> serveCommand(String... args) {
        String project = System.getProperty("jmd.project.dir", ".");
        String cp = Path.of(project, "target", "classes") + File.pathSeparator + Path.of(project, "target", "test-classes");
        List<String> c = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-ea", io.jmd.testutil.JmdProcess.jvmArgs(), "-cp", cp, ServeMain.class.getName()));
        c.addAll(List.of(args));
        return c;
    }
}

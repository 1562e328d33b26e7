package io.jmd.testutil;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs real external tools (mdadm, blkid, nbd clients) from tests. A missing tool fails the test
 * when the environment variable CI is set (CI must have every tool it claims to test against) and
 * skips it otherwise (a developer machine may lack one). Output goes through temporary files, so
 * no reader threads are needed; a command that outlives its timeout is killed and fails the test.
 */
public final class ExternalTool {
    private ExternalTool() {}

    /** Where tools live besides PATH: sbin directories are often missing from a non-root PATH. */
    private static final List<String> EXTRA_DIRS = List.of("/usr/local/sbin", "/usr/sbin", "/sbin");

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        /** Fails the test unless the command exited 0; the message carries both outputs. */
        public Result assertSuccess() {
            if (exitCode != 0) {
                fail(String.join(" ", command) + " exited " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr);
            }
            return this;
        }
    }

    /** The tool's path, if it is installed. */
    public static Optional<Path> find(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(File.pathSeparator)));
        }
        dirs.addAll(EXTRA_DIRS);
        for (String dir : dirs) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    public static boolean isCi() {
        String ci = System.getenv("CI");
        return ci != null && !ci.isEmpty() && !ci.equalsIgnoreCase("false");
    }

    /** The tool's path; fails (under CI) or skips (elsewhere) the calling test when it is missing. */
    public static Path require(String name) {
        Optional<Path> tool = find(name);
        if (tool.isEmpty()) {
            String message = name + " is not installed (install it, e.g. apt-get install -y " + name + ")";
            if (isCi()) {
                fail(message + "; CI is set, so this is a failure, not a skip");
            }
            Assumptions.abort(message);
        }
        return tool.get();
    }

    /** Runs {@code tool args...}, waiting at most {@link #DEFAULT_TIMEOUT}. */
    public static Result run(String tool, String... args) {
        return run(DEFAULT_TIMEOUT, tool, args);
    }

    public static Result run(Duration timeout, String tool, String... args) {
        return run(Map.of(), timeout, tool, args);
    }

    /** As {@link #run(Duration, String, String...)}, with {@code environment} added to the child's. */
    public static Result run(Map<String, String> environment, Duration timeout, String tool, String... args) {
        List<String> command = new ArrayList<>();
        command.add(require(tool).toString());
        command.addAll(List.of(args));
        try {
            return runCommand(command, environment, timeout);
        } catch (IOException e) {
            return fail("could not run " + command + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted while running " + command, e);
        }
    }

    private static Result runCommand(List<String> command, Map<String, String> environment, Duration timeout)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("jmd-tool-", ".out");
        Path err = Files.createTempFile("jmd-tool-", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            builder.environment().putAll(environment);
            Process process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                fail(String.join(" ", command) + " did not finish within " + timeout);
            }
            return new Result(List.copyOf(command), process.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}

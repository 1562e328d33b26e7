package io.jmd.testutil;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real {@code jmd} CLI as its own process (the JVM running the tests, with the tests'
 * class path, so it is the code under test), in a chosen working directory.
 */
public final class JmdProcess {
    public static final Duration TIMEOUT = Duration.ofSeconds(120);

    private JmdProcess() {
    }

    /**
     * The launcher's JVM options as an argument file ({@code @scripts/jvm.args}): child processes
     * run with the flags a user's {@code ./jmd} has (vector kernels, native access, JIT settings).
     */
    public static String jvmArgs() {
        return "@" + Path.of(System.getProperty("jmd.project.dir", "."), "scripts", "jvm.args").toAbsolutePath();
    }

    /** The command line that starts jmd: java, flags, class path, main class. */
    public static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add(jvmArgs());
        cmd.add("-ea");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("io.jmd.cli.Main");
        cmd.addAll(List.of(args));
        return cmd;
    }

    public static ExternalTool.Result run(Path dir, String... args) {
        return run(dir, Map.of(), args);
    }

    public static ExternalTool.Result run(Path dir, Map<String, String> env, String... args) {
        List<String> cmd = command(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().putAll(env);
        pb.environment().put("TZ", "UTC");
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            var out = p.getInputStream();
            var err = p.getErrorStream();
            byte[][] got = new byte[2][];
            Thread t = Thread.ofVirtual().start(() -> {
                try {
                    got[1] = err.readAllBytes();
                } catch (IOException e) {
                    got[1] = e.toString().getBytes(StandardCharsets.UTF_8);
                }
            });
            got[0] = out.readAllBytes();
            if (!p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("jmd " + String.join(" ", args) + " did not finish in " + TIMEOUT);
            }
            t.join();
            return new ExternalTool.Result(cmd, p.exitValue(), new String(got[0], StandardCharsets.UTF_8),
                new String(got[1], StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("cannot start jmd: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}

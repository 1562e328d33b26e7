package io.jmd.kernel;

import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdProcess;

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

/**
 * {@code jmd serve} on a unix socket in its own process, for real NBD clients (qemu-io, nbdcopy).
 * {@link #stop()} sends SIGTERM, as a service manager would, and waits for the clean stop.
 */
final class JmdServer implements AutoCloseable {
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    static final String EXPORT = "kvm";

    private final Process process;
    private final Path socket;
    private final Path log;
    private boolean stopped;

    private JmdServer(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    /** Starts {@code jmd serve [extra] MEMBER...} in {@code dir} and waits until it serves. */
    static JmdServer start(Path dir, List<String> extra, List<Path> members) throws IOException, InterruptedException {
        Path socket = Files.createTempFile(dir, "nbd-", ".sock");
        Files.delete(socket);
        Path log = Files.createTempFile(dir, "serve-", ".log");
        List<String> args = new ArrayList<>(List.of("serve", "--unix", socket.toString(), "--export-name=" + EXPORT));
        args.addAll(extra);
        members.forEach(m -> args.add(m.toString()));
        ProcessBuilder pb = new ProcessBuilder(JmdProcess.command(args.toArray(String[]::new))).directory(dir.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(log.toFile()).redirectErrorStream(true);
        pb.environment().put("TZ", "UTC");
        JmdServer s = new JmdServer(pb.start(), socket, log);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!s.log().contains("jmd: serving ")) {
            if (!s.process.isAlive()) {
                fail("jmd serve " + String.join(" ", args) + " exited " + s.process.exitValue() + " before serving:\n" + s.log());
            }
            if (System.nanoTime() > deadline) {
                s.process.destroyForcibly().waitFor();
                fail("jmd serve did not start serving within " + START_TIMEOUT + ":\n" + s.log());
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return s;
    }

    /** The export's NBD URI. */
    String uri() {
        return "nbd+unix:///" + EXPORT + "?socket=" + socket;
    }

    String log() throws IOException {
        return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
    }

    /** SIGTERM, then waits for exit 0 and returns the log. */
    String stop() throws IOException, InterruptedException {
        stopped = true;
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            fail("jmd serve did not stop within " + STOP_TIMEOUT + " of SIGTERM:\n" + log());
        }
        String text = log();
        if (process.exitValue() != 0) {
            fail("jmd serve exited " + process.exitValue() + " after SIGTERM:\n" + text);
        }
        return text;
    }

    /** Writes the pattern's head and tail through NBD with qemu-io, then flushes. */
    void writePattern(Path dir, long sizeBytes) throws IOException {
        Path head = dir.resolve("head.bin");
        Path tail = dir.resolve("tail.bin");
        if (!Files.exists(head)) {
            Files.write(head, ArrayPattern.head());
            Files.write(tail, ArrayPattern.tail());
        }
        ExternalTool.run(Duration.ofSeconds(120), "qemu-io", "-f", "raw", uri(),
            "-c", "write -s " + head + " 0 " + ArrayPattern.HEAD_BYTES,
            "-c", "write -s " + tail + " " + ArrayPattern.tailOffset(sizeBytes) + " " + ArrayPattern.TAIL_BYTES,
            "-c", "flush").assertSuccess();
    }

    /** The export's size in bytes (nbdinfo). */
    long sizeBytes() {
        return Long.parseLong(ExternalTool.run("nbdinfo", "--size", uri()).assertSuccess().stdout().strip());
    }

    /** Copies the whole export into {@code out} with nbdcopy. */
    void readAll(Path out) {
        ExternalTool.run(Duration.ofSeconds(120), "nbdcopy", uri(), out.toString()).assertSuccess();
    }

    @Override
    public void close() throws InterruptedException {
        if (!stopped && process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }
}

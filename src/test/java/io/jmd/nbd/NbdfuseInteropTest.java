package io.jmd.nbd;

import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** nbdfuse shows the export as a file: plain file I/O on it goes through the server. */
@Tag("interop")
class NbdfuseInteropTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);
    @TempDir
    Path dir;

    @Test
    void fileIoThroughFuseReachesTheDevice() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse on this machine");
        Path nbdfuse = ExternalTool.require("nbdfuse");
        Path fusermount = ExternalTool.find("fusermount3").or(() -> ExternalTool.find("fusermount")).orElseThrow();
        try (ServerFixture fx = ServerFixture.start(jmd.env())) {
            Path mnt = Files.createDirectory(dir.resolve("mnt"));
            Path file = mnt.resolve("disk");
            Process p = new ProcessBuilder(nbdfuse.toString(), file.toString(), fx.uri("disk"))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(dir.resolve("nbdfuse.err").toFile())
                .start();
            try {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (!(Files.exists(file) && Files.size(file) == ServerFixture.SIZE_BYTES)) {
                    assertTrue(p.isAlive(), () -> "nbdfuse exited: " + read(dir.resolve("nbdfuse.err")));
                    assertTrue(System.nanoTime() < deadline, "nbdfuse did not mount");
                    Thread.onSpinWait();
                }
                byte[] data = new byte[1 << 20];
                new Random(31).nextBytes(data);
                try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    c.write(ByteBuffer.wrap(data), 3L << 20);
                    c.force(true);
                }
                assertArrayEquals(data, fx.device.readDirect(3L << 20, data.length), "the write reached the device");
                ByteBuffer back = ByteBuffer.allocate(data.length);
                try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
                    while (back.hasRemaining()) {
                        c.read(back, (3L << 20) + back.position());
                    }
                }
                assertArrayEquals(data, back.array());
            } finally {
                new ProcessBuilder(fusermount.toString(), "-u", mnt.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(20, TimeUnit.SECONDS);
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            }
            assertEquals(0, p.exitValue(), () -> "nbdfuse: " + read(dir.resolve("nbdfuse.err")));
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

}

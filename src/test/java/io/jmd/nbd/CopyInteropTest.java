package io.jmd.nbd;

import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** nbdcopy, qemu-img and qemu-io move data through the server bit-exactly. */
@Tag("interop")
class CopyInteropTest {
    private static final int IMAGE_BYTES = 24 << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);
    private ServerFixture fx;
    @TempDir
    Path dir;

    @BeforeEach
    void start() throws IOException {
        fx = ServerFixture.start(jmd.env());
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    private Path randomImage(String name, long seed) throws IOException {
        byte[] data = new byte[IMAGE_BYTES];
        Random r = new Random(seed);
        r.nextBytes(data);
        Arrays.fill(data, 4 << 20, 6 << 20, (byte) 0); // a zero run, which copiers like to skip
        Path p = dir.resolve(name);
        Files.write(p, data);
        return p;
    }

    @Test
    void nbdcopyRoundTripsRandomData() throws IOException {
        Path in = randomImage("in.img", 11);
        Clients.run("nbdcopy", "--flush", in.toString(), fx.uri("disk"));
        Path out = dir.resolve("out.img");
        Clients.run("nbdcopy", fx.uri("disk"), out.toString());
        byte[] back = Files.readAllBytes(out);
        assertArrayEquals(Files.readAllBytes(in), Arrays.copyOf(back, IMAGE_BYTES));
        assertArrayEquals(new byte[back.length - IMAGE_BYTES], Arrays.copyOfRange(back, IMAGE_BYTES, back.length));
    }

    @Test
    void qemuImgConvertAndCompare() throws IOException {
        Path in = randomImage("in.img", 12);
        Clients.run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", in.toString(), fx.uri("disk"));
        // Sizes differ (24 MiB file, 64 MiB export), so compare in non-strict mode: the rest must read as zero.
        String out = Clients.run("qemu-img", "compare", "-f", "raw", "-F", "raw", in.toString(), fx.uri("disk")).stdout();
        assertTrue(out.contains("Images are identical"), out);
        Path back = dir.resolve("back.img");
        Clients.run("qemu-img", "convert", "-f", "raw", "-O", "raw", fx.uri("disk"), back.toString());
        assertArrayEquals(Files.readAllBytes(in), Arrays.copyOf(Files.readAllBytes(back), IMAGE_BYTES));
    }

    @Test
    void qemuIoPatternsDiscardZeroesAndFlush() {
        String uri = fx.uri("disk");
        long flushes = fx.device.flushes.get();
        String out = Clients.run("qemu-io", "-f", "raw", uri,
            "-c", "write -P 0xab 0 1M", "-c", "read -P 0xab 0 1M",
            "-c", "write -P 0xcd 1M 1M", "-c", "discard 1M 512k", "-c", "read -P 0 1M 512k", "-c", "read -P 0xcd 1536k 512k",
            "-c", "write -z 4M 1M", "-c", "read -P 0 4M 1M",
            "-c", "write -z -u 8M 1M", "-c", "read -P 0 8M 1M",
            "-c", "write -f -P 0x11 12M 64k", "-c", "flush", "-c", "read -P 0x11 12M 64k").stdout();
        assertTrue(!out.contains("Pattern verification failed") && !out.contains("failed"), out);
        assertTrue(fx.device.flushes.get() > flushes, "flush reached the device");
        assertTrue(fx.device.fuaBios.get() > 0, "write -f sent FUA");
        assertTrue(fx.device.discards.get() > 0 && fx.device.zeroes.get() >= 2, "discard and zeroes reached the device");
    }
}

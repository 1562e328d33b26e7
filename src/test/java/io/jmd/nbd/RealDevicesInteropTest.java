package io.jmd.nbd;

import io.jmd.block.FileBlockDevice;
import io.jmd.block.MemoryBlockDevice;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server over jmd's real devices: a sparse member file (holes from SEEK_DATA/SEEK_HOLE,
 * discards punch holes) and the sparse memory device, driven by nbdinfo, nbdcopy, qemu-io, fio.
 */
@Tag("interop")
class RealDevicesInteropTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);
    @TempDir
    Path dir;

    @Test
    void sparseFileMapsHolesAndRoundTrips() throws Exception {
        Path file = dir.resolve("member.img");
        FileBlockDevice dev = FileBlockDevice.open(jmd.env(), FileBlockDevice.Options.of(file).create(32L << 20));
        NbdServer s = NbdServer.builder(jmd.env()).export("file", null, dev, false).listenTcp("127.0.0.1", 0).start();
        try {
            String uri = "nbd://127.0.0.1:" + s.tcpPort() + "/file";
            String empty = Clients.run("nbdinfo", "--map", uri).stdout().strip();
            assertTrue(empty.matches("\\s*0\\s+33554432\\s+3\\s+hole,zero"), empty);

            byte[] data = new byte[4 << 20];
            new Random(21).nextBytes(data);
            Path in = dir.resolve("in.bin");
            Files.write(in, data);
            Clients.run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", in.toString(), uri);
            String map = Clients.run("nbdinfo", "--map", uri).stdout();
            assertTrue(map.contains("data") && map.contains("hole,zero"), map);

            Path out = dir.resolve("out.bin");
            Clients.run("nbdcopy", uri, out.toString());
            assertArrayEquals(data, Arrays.copyOf(Files.readAllBytes(out), data.length));

            Clients.run("qemu-io", "-f", "raw", uri, "-c", "discard 0 1M", "-c", "read -P 0 0 1M", "-c", "flush");
            String after = Clients.run("nbdinfo", "--map", uri).stdout();
            assertTrue(after.strip().split("\n")[0].matches("\\s*0\\s+1048576\\s+3\\s+hole,zero"),
                "a discard punches a hole in the member file:\n" + after);
        } finally {
            s.close();
            dev.close();
        }
    }

    @Test
    void fioVerifiesOverTheMemoryDevice() throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(jmd.env(), "mem", 32L << 20);
        NbdServer s = NbdServer.builder(jmd.env()).export("mem", null, dev, false).listenTcp("127.0.0.1", 0).start();
        try {
            String out = Clients.run("fio", "--name=mem", "--ioengine=nbd", "--uri=nbd://127.0.0.1:" + s.tcpPort() + "/mem",
                "--rw=randrw", "--bs=4k", "--size=8M", "--numjobs=4", "--offset_increment=8M", "--iodepth=8",
                "--verify=crc32c", "--verify_state_save=0", "--do_verify=1", "--verify_fatal=1", "--group_reporting").stdout();
            assertTrue(out.contains("err= 0"), out);
        } finally {
            s.close();
            dev.close();
        }
    }
}

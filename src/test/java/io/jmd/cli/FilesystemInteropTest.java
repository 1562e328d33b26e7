package io.jmd.cli;

import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdProcess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real file system on a jmd export: a real {@code jmd serve} process, nbdfuse shows the export as
 * a file, losetup makes it a block device, mkfs.ext4 and mount put ext4 on it; files written,
 * unmounted, jmd stopped with SIGTERM and started again, re-mounted: same checksums.
 */
final class FilesystemInteropTest {
    @TempDir
    Path dir;

    @Test
    @Tag("interop")
    void ext4OnAnExportKeepsItsFilesAcrossARestartOfJmd() throws Exception {
        Assumptions.assumeTrue("0".equals(run("id", "-u").trim()), "needs root for losetup and mount");
        for (String t : List.of("nbdfuse", "losetup", "mkfs.ext4", "mount", "umount", "fusermount3")) {
            ExternalTool.require(t);
        }
        JmdProcess.run(dir, "create", "--level=1", "--raid-devices=2", "--name=fs", "--member-size=128M", "a.img", "b.img")
            .assertSuccess();
        Map<String, String> sums = new LinkedHashMap<>();
        Random rnd = new Random(11);
        withMountedExport(fs -> {
            run("mkfs.ext4", "-q", "-F", fs.loop());
            run("mount", fs.loop(), fs.mountpoint().toString());
            for (int i = 0; i < 3; i++) {
                byte[] data = new byte[(1 + i) << 20];
                rnd.nextBytes(data);
                Path f = fs.mountpoint().resolve("file" + i);
                Files.write(f, data);
                sums.put(f.getFileName().toString(), sha256(data));
            }
            run("umount", fs.mountpoint().toString());
        });
        withMountedExport(fs -> {
            run("mount", fs.loop(), fs.mountpoint().toString());
            try {
                for (Map.Entry<String, String> e : sums.entrySet()) {
                    assertEquals(e.getValue(), sha256(Files.readAllBytes(fs.mountpoint().resolve(e.getKey()))), e.getKey());
                }
            } finally {
                run("umount", fs.mountpoint().toString());
            }
        });
        String examine = JmdProcess.run(dir, "examine", "a.img").assertSuccess().stdout();
        assertTrue(examine.contains("State : clean"), examine);
    }

    record Mounted(String loop, Path mountpoint) {
    }

    interface FsStep {
        void run(Mounted fs) throws Exception;
    }

    /** Starts jmd serve, nbdfuse and a loop device; runs {@code step}; tears all down; jmd must stop clean. */
    private void withMountedExport(FsStep step) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path fuse = Files.createDirectories(dir.resolve("fuse"));
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Process jmd = new ProcessBuilder(JmdProcess.command("serve", "--port=" + port, "a.img", "b.img"))
            .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("serve.log").toFile()).start();
        Process nbdfuse = null;
        String loop = null;
        try {
            String uri = "nbd://127.0.0.1:" + port + "/fs";
            waitFor(() -> ExternalTool.run("nbdinfo", "--size", uri).exitCode() == 0, "jmd serve", dir.resolve("serve.log"));
            nbdfuse = new ProcessBuilder(ExternalTool.require("nbdfuse").toString(), fuse.resolve("disk").toString(), uri)
                .redirectErrorStream(true).redirectOutput(dir.resolve("nbdfuse.log").toFile()).start();
            waitFor(() -> Files.isRegularFile(fuse.resolve("disk")), "nbdfuse", dir.resolve("nbdfuse.log"));
            loop = run("losetup", "-f", "--show", fuse.resolve("disk").toString()).trim();
            step.run(new Mounted(loop, mnt));
        } finally {
            if (loop != null) {
                run("losetup", "-d", loop);
            }
            if (nbdfuse != null) {
                ExternalTool.run("fusermount3", "-u", fuse.toString());
                nbdfuse.waitFor(20, TimeUnit.SECONDS);
                nbdfuse.destroy();
            }
            jmd.destroy(); // SIGTERM: finish in-flight requests, flush, mark clean
            assertTrue(jmd.waitFor(60, TimeUnit.SECONDS), "jmd serve did not stop on SIGTERM");
        }
        String log = Files.readString(dir.resolve("serve.log"));
        assertTrue(log.contains("stopped, clean"), log);
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void waitFor(Check c, String what, Path log) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!c.ok()) {
            assertTrue(System.nanoTime() < deadline, what + " did not come up: " + (Files.exists(log) ? Files.readString(log) : ""));
            Thread.sleep(100);
        }
    }

    private static String run(String tool, String... args) {
        return ExternalTool.run(tool, args).assertSuccess().stdout();
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static String read(Path p) throws IOException {
        return Files.readString(p);
    }
}

package io.jmd.nbd.client;

import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A RAID1 whose second member is an nbdkit export, end to end with real processes: {@code jmd
 * create} writes the superblock through NBD (the real mdadm reads it from nbdkit's backing file),
 * {@code jmd serve} serves the array, nbdcopy and fio write through it, and the data is checked on
 * both halves. Then nbdkit is killed with -9 under fio: jmd fails that member, keeps serving
 * degraded, fio verifies every block it wrote, and what was written before is intact. nbdkit
 * started again, the member is re-added by its URI and rebuilt.
 */
@Tag("interop")
class NbdMemberInteropTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final long MEMBER_BYTES = 64L << 20;

    @TempDir
    Path dir;
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        for (Process p : started) {
            if (p.isAlive()) {
                p.destroy();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
    }

    private String kitUri() {
        return "nbd+unix:///?socket=" + dir.resolve("kit.sock");
    }

    private String arrayUri() {
        return "nbd+unix:///r1?socket=" + dir.resolve("jmd.sock");
    }

    private Process nbdkit() throws IOException, InterruptedException {
        Path sock = dir.resolve("kit.sock");
        Files.deleteIfExists(sock);
        Process p = new ProcessBuilder(ExternalTool.require("nbdkit").toString(), "-f", "-U", sock.toString(), "file",
            dir.resolve("b.img").toString()).redirectErrorStream(true).redirectOutput(dir.resolve("nbdkit.log").toFile()).start();
        started.add(p);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!Files.exists(sock)) {
            assertTrue(p.isAlive(), "nbdkit exited: " + Files.readString(dir.resolve("nbdkit.log")));
            assertTrue(System.nanoTime() < deadline, "nbdkit: no socket");
            Thread.sleep(20);
        }
        return p;
    }

    private ExternalTool.Result jmd(String... args) {
        ExternalTool.Result r = JmdProcess.run(dir, args);
        assertEquals(0, r.exitCode(), "jmd " + String.join(" ", args) + ":\n" + r.stderr() + r.stdout());
        return r;
    }

    private String log(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private String awaitLog(Process serve, Path log, String what, Predicate<String> p) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            String s = log(log);
            if (p.test(s)) {
                return s;
            }
            if (!serve.isAlive()) {
                fail("jmd serve exited " + serve.exitValue() + " before " + what + ":\n" + s);
            }
            Thread.sleep(50);
        }
        return fail("jmd serve: no " + what + " within " + WAIT + ":\n" + log(log));
    }

    private byte[] member(String file, long dataOffsetBytes, int n) throws IOException {
        byte[] b = new byte[n];
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve(file).toFile(), "r")) {
            f.seek(dataOffsetBytes);
            f.readFully(b);
        }
        return b;
    }

    private String status() {
        return jmd("status", "--control=" + dir.resolve("ctl")).stdout();
    }

    @Test
    void raid1WithAnNbdkitMemberSurvivesNbdkitDying() throws Exception {
        ExternalTool.require("nbdcopy");
        ExternalTool.require("fio");
        try (RandomAccessFile b = new RandomAccessFile(dir.resolve("b.img").toFile(), "rw")) {
            b.setLength(MEMBER_BYTES);
        }
        Process kit = nbdkit();
        jmd("create", "--level=1", "--raid-devices=2", "--name=r1", "--bitmap=internal", "--member-size=64M",
            "a.img", kitUri());
        String examine = jmd("examine", kitUri()).stdout();
        assertTrue(examine.contains("Raid Level : raid1"), examine);
        ExternalTool.find("mdadm").ifPresent(mdadm -> {
            ExternalTool.Result m = ExternalTool.run("mdadm", "--examine", dir.resolve("b.img").toString()).assertSuccess();
            assertTrue(m.stdout().contains("Raid Level : raid1") && m.stdout().contains("Active device 1"),
                "mdadm reads the superblock jmd wrote through NBD: " + m.stdout());
        });
        Matcher off = Pattern.compile("Data Offset : (\\d+) sectors").matcher(examine);
        assertTrue(off.find(), examine);
        long dataOffset = Long.parseLong(off.group(1)) * 512;

        Path serveLog = dir.resolve("serve.log");
        Process serve = new ProcessBuilder(JmdProcess.command("serve", "--unix=" + dir.resolve("jmd.sock"),
            "--control=" + dir.resolve("ctl"), "a.img", kitUri())).directory(dir.toFile())
            .redirectOutput(dir.resolve("serve.out").toFile()).redirectError(serveLog.toFile()).start();
        started.add(serve);
        awaitLog(serve, serveLog, "serving", s -> s.contains("jmd: serving"));
        assertTrue(status().contains("[2/2] [UU]"));
        assertTrue(status().contains(kitUri() + "[1]"), "the member shows by its URI: " + status());

        // 16 MiB through the array with nbdcopy: on both halves, and read back through the array.
        byte[] data = new byte[16 << 20];
        new Random(7).nextBytes(data);
        Path in = dir.resolve("data.bin");
        Files.write(in, data);
        ExternalTool.run(WAIT, "nbdcopy", in.toString(), arrayUri()).assertSuccess();
        assertArrayEquals(data, member("a.img", dataOffset, data.length), "local half");
        assertArrayEquals(data, member("b.img", dataOffset, data.length), "nbdkit half (its backing file)");

        // fio writes and verifies behind the copied data; nbdkit dies under it.
        Process fio = new ProcessBuilder(ExternalTool.require("fio").toString(), "--name=w", "--ioengine=nbd",
            "--uri=" + arrayUri(), "--bs=4k", "--iodepth=16", "--rw=randwrite", "--offset=32M", "--size=24M",
            "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--time_based", "--runtime=6")
            .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("fio.log").toFile()).start();
        started.add(fio);
        Thread.sleep(1500);
        assertTrue(fio.isAlive(), log(dir.resolve("fio.log")));
        kit.destroyForcibly();
        assertTrue(kit.waitFor(10, TimeUnit.SECONDS));
        String s = awaitLog(serve, serveLog, "the member's failure", x -> x.contains("Fail r1 " + kitUri()));
        assertTrue(s.contains("connection lost"), s);
        String st = status();
        assertTrue(st.contains("[2/1] [U_]") && st.contains(kitUri() + "[1](F)"), st);
        assertTrue(fio.waitFor(90, TimeUnit.SECONDS));
        String fioOut = log(dir.resolve("fio.log"));
        assertEquals(0, fio.exitValue(), fioOut);
        assertTrue(fioOut.contains("err= 0") && !fioOut.contains("verify: bad"), fioOut);
        Path back = dir.resolve("back.bin");
        ExternalTool.run(WAIT, "nbdcopy", arrayUri(), back.toString()).assertSuccess();
        assertArrayEquals(data, Arrays.copyOf(Files.readAllBytes(back), data.length), "data intact, degraded");

        // nbdkit back: the member returns by its URI and is rebuilt where the bitmap says it missed writes.
        nbdkit();
        jmd("remove", "--control=" + dir.resolve("ctl"), "failed");
        jmd("re-add", "--control=" + dir.resolve("ctl"), kitUri());
        awaitLog(serve, serveLog, "the rebuild", x -> x.contains("RebuildFinished") || x.contains("SpareActive"));
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!status().contains("[2/2] [UU]")) {
            assertTrue(System.nanoTime() < deadline, status());
            Thread.sleep(100);
        }
        serve.destroy();
        assertTrue(serve.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, serve.exitValue(), log(serveLog));
        byte[] a = member("a.img", dataOffset, (int) (MEMBER_BYTES - dataOffset));
        byte[] b = member("b.img", dataOffset, (int) (MEMBER_BYTES - dataOffset));
        assertTrue(Arrays.equals(a, b), "after the rebuild both halves hold the same data");
    }
}

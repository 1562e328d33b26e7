package io.jmd.md;

import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The redundancy machinery end to end, with real processes: {@code jmd serve} killed with -9 in
 * the middle of a fio write job and restarted (only the dirty bitmap chunks are resynced, fio's
 * verify passes); a member failed under fio, a spare added and rebuilt while fio goes on (fio's
 * verify passes); check finds an injected mismatch, repair fixes it, check then finds none. The
 * operator side is the real CLI through the control socket. For raid1 on two members, raid5 on
 * three (parity; resync in member bytes) and raid10 (near=2) on four.
 */
@Tag("interop")
class RedundancyInteropTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    /**
     * A recovery under fio on a loaded 2-core machine: normal writes go first at the sync barrier,
     * and fio's all fall in one barrier region, so the recovery crawls while fio runs.
     */
    static final Duration RECOVERY_WAIT = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    /**
     * A level to run: create options, members, the one failed, the spare, mdstat's slot status, and
     * how many members' worth of array bytes one bitmap chunk of member bytes covers (raid4/5/6's
     * bitmap counts member bytes: 32 MiB of array are 32 / data disks MiB of each member).
     */
    record Level(String name, String array, List<String> createOptions, List<String> members, String failed, String spare,
                 String degraded, String optimal, int bitmapDataDisks) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Level> levels() {
        return Stream.of(
            new Level("raid1", "r1", List.of("--level=1", "--raid-devices=2"), List.of("a", "b"), "b", "c",
                "[2/1] [U_]", "[2/2] [UU]", 1),
            new Level("raid5", "r5", List.of("--level=5", "--raid-devices=3"), List.of("a", "b", "c"), "b", "e",
                "[3/2] [U_U]", "[3/3] [UUU]", 2),
            new Level("raid10-n2", "r10", List.of("--level=10", "--layout=n2", "--raid-devices=4"), List.of("a", "b", "c", "d"),
                "b", "e", "[4/3] [U_UU]", "[4/4] [UUUU]", 1));
    }

    Level level;

    /** A {@code jmd serve} process; its stderr goes to a file we read. */
    final class Serve implements AutoCloseable {
        final Process process;
        final Path log;

        Serve(String logName, String... members) throws IOException {
            log = dir.resolve(logName);
            List<String> args = new ArrayList<>(List.of("serve", "--unix=" + dir.resolve("nbd.sock"), "--control=" + ctl()));
            args.addAll(List.of(members));
            process = new ProcessBuilder(JmdProcess.command(args.toArray(String[]::new))).directory(dir.toFile())
                .redirectOutput(dir.resolve(logName + ".out").toFile()).redirectError(log.toFile()).start();
            awaitLog("serving", s -> s.contains("jmd: serving"));
        }

        String log() {
            try {
                return Files.readString(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }

        String awaitLog(String what, Predicate<String> p) {
            return awaitLog(what, p, WAIT);
        }

        String awaitLog(String what, Predicate<String> p, Duration wait) {
            long deadline = System.nanoTime() + wait.toNanos();
            while (System.nanoTime() < deadline) {
                String s = log();
                if (p.test(s)) {
                    return s;
                }
                if (!process.isAlive()) {
                    fail("jmd serve exited " + process.exitValue() + " before " + what + ":\n" + s);
                }
                sleep(50);
            }
            return fail("jmd serve: no " + what + " within " + wait + ":\n" + log());
        }

        void kill9() throws InterruptedException {
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroy(); // SIGTERM: finish, flush, mark clean
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    fail("jmd serve did not stop on SIGTERM:\n" + log());
                }
                assertEquals(0, process.exitValue(), log());
            }
        }
    }

    Path ctl() {
        return dir.resolve("ctl");
    }

    String uri() {
        return "nbd+unix:///" + level.array() + "?socket=" + dir.resolve("nbd.sock");
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    ExternalTool.Result jmd(String... args) {
        return JmdProcess.run(dir, args);
    }

    void create(Level l, String size, String... extra) {
        level = l;
        List<String> args = new ArrayList<>(List.of("create"));
        args.addAll(l.createOptions());
        args.addAll(List.of("--name=" + l.array(), "--bitmap=internal", "--member-size=" + size));
        args.addAll(List.of(extra));
        args.addAll(l.members());
        ExternalTool.Result r = jmd(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.stderr());
    }

    Process fio(String name, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ExternalTool.require("fio").toString(), "--name=w", "--ioengine=nbd",
            "--uri=" + uri(), "--aux-path=" + dir, "--bs=4k", "--iodepth=16", "--verify=crc32c"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(dir.resolve(name).toFile()).start();
    }

    /** Waits until fio's periodic status (--status-interval) shows writes done, not only started. */
    void awaitFioWrites(String log) throws Exception {
        Pattern iops = Pattern.compile("write: IOPS=([0-9.]+)");
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            Matcher m = iops.matcher(Files.exists(dir.resolve(log)) ? read(log) : "");
            boolean wrote = false;
            while (m.find()) {
                wrote |= Double.parseDouble(m.group(1)) > 0;
            }
            if (wrote) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "fio wrote nothing in 60 s: " + read(log));
            sleep(100);
        }
    }

    String read(String file) throws IOException {
        return Files.readString(dir.resolve(file), StandardCharsets.UTF_8);
    }

    String status() {
        ExternalTool.Result r = jmd("status", "--control=" + ctl());
        assertEquals(0, r.exitCode(), r.stderr());
        return r.stdout();
    }

    String[] members() {
        return level.members().toArray(String[]::new);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("levels")
    void killNineDuringFioResyncsOnlyDirtyChunksAndFioVerifies(Level l) throws Exception {
        ExternalTool.require("fio");
        create(l, "256M", "--bitmap-chunk=1M");
        Process writer;
        try (Serve first = new Serve("serve1.log", members())) {
            // The region holds fio's blocks first: fio's verify state does not leave out the writes
            // in flight at the kill, and a block never written before would read as zeroes when
            // such a write (never acknowledged, so rightly lost) did not land.
            Process fill = fio("fio-fill.log", "--rw=write", "--size=32M", "--do_verify=0", "--verify_state_save=0");
            assertTrue(fill.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, fill.exitValue(), read("fio-fill.log"));
            writer = fio("fio-write.log", "--rw=randwrite", "--size=32M", "--do_verify=0", "--verify_state_save=1",
                "--time_based", "--runtime=60", "--status-interval=1");
            awaitFioWrites("fio-write.log"); // the kill must find writes in flight and dirty bits
            sleep(1000);
            first.kill9();
        }
        assertTrue(writer.waitFor(60, TimeUnit.SECONDS), "fio ends once the server is gone");
        try (Serve second = new Serve("serve2.log", members())) {
            String started = second.log();
            Matcher m = Pattern.compile("only the (\\d+) of (\\d+) bitmap chunks that are dirty").matcher(started);
            assertTrue(m.find(), started);
            int dirty = Integer.parseInt(m.group(1));
            int chunks = Integer.parseInt(m.group(2));
            int most = 32 / l.bitmapDataDisks() + 1;
            assertTrue(dirty > 0 && dirty <= most, "fio wrote 32 MiB: at most " + most + " (with one in flight) of the 1 MiB"
                + " chunks: " + dirty);
            String done = second.awaitLog("resync end", s -> s.contains("RebuildFinished"));
            Matcher s = Pattern.compile("bitmap chunks synced (\\d+) of (\\d+)").matcher(done);
            assertTrue(s.find(), done);
            assertEquals(dirty, Integer.parseInt(s.group(1)), "the resync touched only the dirty chunks");
            assertEquals(chunks, Integer.parseInt(s.group(2)));
            System.out.println(l + ": kill -9 under fio: resynced " + dirty + " dirty of " + chunks + " bitmap chunks");
            Process verify = fio("fio-verify.log", "--rw=randwrite", "--size=32M", "--verify_only", "--verify_state_load=1");
            assertTrue(verify.waitFor(120, TimeUnit.SECONDS));
            String out = read("fio-verify.log");
            assertEquals(0, verify.exitValue(), out);
            assertTrue(out.contains("err= 0") && !out.contains("verify: bad"), out);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("levels")
    void memberFailedUnderFioIsRebuiltOntoAnAddedSpareAndCheckRepairWork(Level l) throws Exception {
        ExternalTool.require("fio");
        create(l, "96M");
        try (RandomAccessFile c = new RandomAccessFile(dir.resolve(l.spare()).toFile(), "rw")) {
            c.setLength(96L << 20);
        }
        try (Serve serve = new Serve("serve.log", members())) {
            // long enough for the CLI runs (a JVM start each) and the recovery: they took 23-25 s of
            // fio's time on a loaded 2-core machine, which left a 40 s run too little margin
            Process load = fio("fio.log", "--rw=randwrite", "--size=48M", "--do_verify=1", "--verify_fatal=1",
                "--verify_state_save=0", "--time_based", "--runtime=60");
            sleep(1500);
            ExternalTool.Result f = jmd("fail", "--control=" + ctl(), l.failed());
            assertEquals(0, f.exitCode(), f.stderr());
            assertTrue(f.stdout().contains("set " + l.failed() + " faulty"), f.stdout());
            assertTrue(status().contains(l.degraded()), "degraded while fio writes");
            assertEquals(0, jmd("remove", "--control=" + ctl(), l.failed()).exitCode());
            // slow while status and detail look at it, then at full speed again
            assertEquals(0, jmd("sync-speed", "--control=" + ctl(), "1", "1000").exitCode());
            ExternalTool.Result add = jmd("add", "--control=" + ctl(), l.spare());
            assertEquals(0, add.exitCode(), add.stderr());
            String during = status();
            assertTrue(during.matches("(?s).*recovery = *\\d+\\.\\d%.*"), "jmd status shows the recovery:\n" + during);
            String detailDuring = jmd("detail", "--control=" + ctl()).stdout();
            assertTrue(detailDuring.contains("recovering") && detailDuring.matches("(?s).*Rebuild Status : \\d+% complete.*"),
                "jmd detail shows the recovery:\n" + detailDuring);
            assertEquals(0, jmd("sync-speed", "--control=" + ctl(), "1000", "200000").exitCode());
            serve.awaitLog("recovery end", s -> s.contains("SpareActive"), RECOVERY_WAIT);
            assertTrue(load.isAlive(), "fio still running when the recovery finished:\n" + read("fio.log"));
            assertTrue(load.waitFor(120, TimeUnit.SECONDS));
            String out = read("fio.log");
            assertEquals(0, load.exitValue(), out);
            assertTrue(out.contains("err= 0") && !out.contains("verify: bad"), out);
            assertTrue(status().contains(l.optimal()), status());
            String detail = jmd("detail", "--control=" + ctl()).stdout();
            assertTrue(detail.matches("(?s).*active sync +" + Pattern.quote(dir.resolve(l.spare()).toString()) + ".*"), detail);

            // check finds an injected mismatch; repair fixes it; check then finds none
            assertEquals(0, jmd("action", "--control=" + ctl(), "check").exitCode());
            awaitMismatch(0);
            try (RandomAccessFile c = new RandomAccessFile(dir.resolve(l.spare()).toFile(), "rw")) {
                c.seek((2048L + 4096) * 512); // data_offset 2048 sectors, 2 MiB into the member's data
                c.write(new byte[8192]);
                c.seek((2048L + 4096) * 512);
                c.write("jmd injected mismatch".getBytes(StandardCharsets.UTF_8));
            }
            assertEquals(0, jmd("action", "--control=" + ctl(), "check").exitCode());
            long found = awaitMismatch(-1);
            assertTrue(found > 0, "check counts the injected mismatch");
            assertEquals(0, jmd("action", "--control=" + ctl(), "repair").exitCode());
            awaitMismatch(found);
            assertEquals(0, jmd("action", "--control=" + ctl(), "check").exitCode());
            assertEquals(0, awaitMismatch(0));
            System.out.println(l + ": check after injection: mismatch_cnt " + found + "; after repair: 0");
        }
        assertEquals(0, jmd("examine", l.spare()).exitCode());
    }

    /** Waits for the running check/repair to end; returns mismatch_cnt ({@code want} >= 0: waits for that value). */
    long awaitMismatch(long want) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Pattern p = Pattern.compile("mismatch_cnt: (\\d+)");
        String s = "";
        while (System.nanoTime() < deadline) {
            s = status();
            Matcher m = p.matcher(s);
            boolean running = s.contains("check =") || s.contains("resync =") || s.contains("PENDING");
            if (!running && m.find()) {
                long v = Long.parseLong(m.group(1));
                if (want < 0 ? v > 0 : v == want) {
                    return v;
                }
            }
            sleep(100);
        }
        return fail("no mismatch_cnt " + (want < 0 ? "> 0" : want) + " within " + WAIT + ":\n" + s);
    }
}

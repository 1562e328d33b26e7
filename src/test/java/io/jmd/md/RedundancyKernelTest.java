package io.jmd.md;

import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdProcess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What jmd's recovery leaves, read by the real Linux md driver: jmd serves a RAID1 (two members)
 * or a RAID10 (near=2, four members) with a bitmap,
 * fio writes, a member is failed and removed and a spare added and rebuilt online, jmd stops on
 * SIGTERM; then, in a VM (scripts/kernel-vm), the kernel assembles the survivor and the rebuilt
 * spare clean and not degraded, reads a bitmap that is not stale, and a check scrub finds no
 * mismatch. A missing VM prerequisite skips the test (fails it under CI), as the kernel harness does.
 */
@Tag("interop")
@Tag("kernel")
class RedundancyKernelTest {
    @TempDir
    Path dir;

    static Stream<RedundancyInteropTest.Level> levels() {
        return RedundancyInteropTest.levels();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("levels")
    void spareRebuiltByJmdAssemblesCleanInTheKernelWithNoMismatch(RedundancyInteropTest.Level l) throws Exception {
        Path script = Path.of(System.getProperty("jmd.project.dir", "."), "scripts", "kernel-vm", "kernel-vm");
        if (!Files.isExecutable(script)) {
            Assumptions.abort("no kernel VM harness at " + script);
        }
        ExternalTool.require("fio");
        array = l.array();
        List<String> create = new ArrayList<>(List.of("create"));
        create.addAll(l.createOptions());
        create.addAll(List.of("--name=" + l.array(), "--bitmap=internal", "--member-size=64M"));
        create.addAll(l.members());
        assertEquals(0, JmdProcess.run(dir, create.toArray(String[]::new)).exitCode());
        try (RandomAccessFile c = new RandomAccessFile(dir.resolve(l.spare()).toFile(), "rw")) {
            c.setLength(64L << 20);
        }
        List<String> after = new ArrayList<>(l.members());
        after.set(after.indexOf(l.failed()), l.spare());
        Path log = dir.resolve("serve.log");
        List<String> serveArgs = new ArrayList<>(List.of("serve", "--unix=" + dir.resolve("nbd.sock"), "--control=" + dir.resolve("ctl")));
        serveArgs.addAll(l.members());
        Process serve = new ProcessBuilder(JmdProcess.command(serveArgs.toArray(String[]::new))).directory(dir.toFile())
            .redirectError(log.toFile()).redirectOutput(dir.resolve("serve.out").toFile()).start();
        try {
            await(serve, log, "jmd: serving");
            fio("--rw=write", "--size=24M");
            assertEquals(0, JmdProcess.run(dir, "fail", "--control=" + dir.resolve("ctl"), l.failed()).exitCode());
            fio("--rw=randwrite", "--size=24M", "--offset=24M");
            assertEquals(0, JmdProcess.run(dir, "remove", "--control=" + dir.resolve("ctl"), l.failed()).exitCode());
            assertEquals(0, JmdProcess.run(dir, "add", "--control=" + dir.resolve("ctl"), l.spare()).exitCode());
            await(serve, log, "SpareActive");
        } finally {
            serve.destroy();
            assertTrue(serve.waitFor(60, TimeUnit.SECONDS));
        }
        assertEquals(0, serve.exitValue(), Files.readString(log));
        Path guest = dir.resolve("guest.sh");
        StringBuilder disks = new StringBuilder();
        for (String n : after) {
            disks.append(" $(disk ").append(n).append(')');
        }
        Files.writeString(guest, String.join("\n",
            "mdadm --assemble /dev/md0" + disks + " || exit 1",
            "cat /proc/mdstat",
            "mdadm -X $(disk " + after.get(0) + ")",
            "echo \"@ state=$(cat /sys/block/md0/md/array_state)\"",
            "echo \"@ degraded=$(cat /sys/block/md0/md/degraded)\"",
            "echo \"@ mismatch=$(md_check md0)\"",
            "mdadm --stop /dev/md0",
            ""));
        List<String> vmArgs = new ArrayList<>(List.of(script.toString(), "run", "--script", guest.toString(), "--timeout", "400"));
        for (String n : after) {
            vmArgs.add(dir.resolve(n).toString());
        }
        Process vm = new ProcessBuilder(vmArgs).redirectErrorStream(true).redirectOutput(dir.resolve("vm.out").toFile()).start();
        assertTrue(vm.waitFor(450, TimeUnit.SECONDS), "kernel VM run took too long");
        String out = Files.readString(dir.resolve("vm.out"), StandardCharsets.UTF_8);
        if (vm.exitValue() == 3) {
            if (ExternalTool.isCi()) {
                fail("kernel VM prerequisite missing under CI:\n" + out);
            }
            Assumptions.abort("kernel VM prerequisite missing:\n" + out);
        }
        assertEquals(0, vm.exitValue(), out);
        System.out.println(l + ": kernel after jmd's online recovery:\n" + out.substring(Math.max(0, out.indexOf("===== JMD-VM BEGIN"))));
        assertTrue(out.contains("has been started with " + after.size() + " drives"), out);
        assertTrue(out.contains("@ state=clean"), out);
        assertTrue(out.contains("@ degraded=0"), out);
        assertTrue(out.contains("@ mismatch=0"), out);
        assertTrue(!out.contains("out of date") && !out.contains("forcing full recovery"), "bitmap not stale:\n" + out);
    }

    String array;

    void fio(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ExternalTool.require("fio").toString(), "--name=k", "--ioengine=nbd",
            "--uri=nbd+unix:///" + array + "?socket=" + dir.resolve("nbd.sock"), "--bs=64k", "--iodepth=8", "--verify=crc32c",
            "--do_verify=1", "--verify_state_save=0"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(dir.resolve("fio.log").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("fio.log")));
    }

    static void await(Process p, Path log, String what) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            String s = Files.readString(log, StandardCharsets.UTF_8);
            if (s.contains(what)) {
                return;
            }
            if (!p.isAlive()) {
                fail("jmd serve exited before '" + what + "':\n" + s);
            }
            Thread.sleep(50);
        }
        fail("no '" + what + "' within 60 s:\n" + Files.readString(log, StandardCharsets.UTF_8));
    }
}

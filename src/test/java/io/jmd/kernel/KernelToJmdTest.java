package io.jmd.kernel;

import io.jmd.testutil.ExternalTool;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linux → jmd: in a VM the real md driver creates each array with mdadm, copies the pattern in,
 * finishes the initial resync, scrubs it and stops it clean; then jmd assembles the member images,
 * agrees with mdadm --detail, and reads back through NBD exactly what the kernel's array held (the
 * whole array, hashed on both sides). Degraded: jmd serves with one member missing (two for
 * raid6) and still reads the same content.
 *
 * <p>All arrays of one kernel are made in one VM boot. Levels jmd does not have yet (per
 * io.jmd.md.Personalities) are skipped with a message naming them, and turn on when they land.
 */
@Tag("interop")
@Tag("kernel")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KernelToJmdTest {
    @TempDir
    static Path dir;

    private VmBatches vms;

    static List<RaidCase> cases() {
        return RaidCase.all();
    }

    static List<RaidCase> degradedCases() {
        return RaidCase.degradable();
    }

    @BeforeAll
    void kernelMakesArrays() throws IOException {
        ExternalTool.require("nbdcopy");
        Path pattern = ArrayPattern.writeDisk(dir.resolve("pattern.img"));
        vms = new VmBatches(List.of(KernelVm.Drive.ro(pattern, "pattern")));
        for (RaidCase c : RaidCase.all()) {
            if (c.pendingInJmd(false).isPresent()) {
                continue;
            }
            Path d = Files.createDirectories(dir.resolve(c.name()));
            List<String> serials = GuestScript.serials("", c);
            for (int i = 0; i < c.devices(); i++) {
                Path m = d.resolve("m" + i + ".img");
                try (RandomAccessFile f = new RandomAccessFile(m.toFile(), "rw")) {
                    f.setLength(c.memberBytes()); // sparse, reads as zeroes
                }
                vms.drive(c, KernelVm.Drive.rw(m, serials.get(i)));
            }
            vms.script(c).createAndWrite(c.name(), c, serials);
        }
        vms.run();
    }

    private KernelVm.Outcome vm(RaidCase c) {
        return vms.outcome(c);
    }

    private static void assumeJmdHasLevel(RaidCase c) {
        c.pendingInJmd(false).ifPresent(why -> Assumptions.abort(why));
    }

    private List<Path> members(RaidCase c) {
        List<Path> m = new ArrayList<>();
        for (int i = 0; i < c.devices(); i++) {
            m.add(dir.resolve(c.name()).resolve("m" + i + ".img"));
        }
        return m;
    }

    /** The kernel's report for {@code c}, checked: created, written, resynced, consistent, stopped. */
    private KernelVm.Section kernelMade(RaidCase c) {
        KernelVm.Section s = vm(c).section(c.name());
        String why = c.name() + " on " + vm(c).kernelRelease() + "; guest said:\n" + s.text();
        for (String key : List.of("create_rc", "head_rc", "tail_rc", "resync_rc", "stop_rc")) {
            assertEquals("0", s.value(key), key + ": " + why);
        }
        if (c.redundant()) {
            assertEquals("0", s.value("mismatch_cnt"), why);
        }
        long size = Long.parseLong(s.value("size"));
        assertEquals(ArrayPattern.expectedSha256(size), s.value("sha256"),
            "the kernel's own array does not hold the pattern (a harness problem): " + why);
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void jmdAssemblesAndReadsWhatTheKernelWrote(RaidCase c) throws Exception {
        assumeJmdHasLevel(c);
        KernelVm.Section s = kernelMade(c);
        String why = c.name() + " made by " + vm(c).describe() + "; guest said:\n" + s.text();
        Path d = dir.resolve(c.name());
        List<String> names = members(c).stream().map(Path::toString).toList();

        List<String> detail = new ArrayList<>(List.of("detail"));
        detail.addAll(names);
        Map<String, String> jmd = GuestScript.parseDetail(JmdCli.run(detail).assertSuccess().stdout());
        Map<String, String> kernel = GuestScript.parseDetail(s.block("detail"));
        for (String key : List.of("Raid Level", "Raid Devices", "UUID", "Array Size", "Name")) {
            assertEquals(JmdToKernelTest.firstWord(kernel.get(key)), JmdToKernelTest.firstWord(jmd.get(key)),
                key + ": kernel vs jmd detail:\n" + String.join("\n", jmd.toString()) + "\n" + why);
        }
        assertEquals(Integer.toString(c.devices()), jmd.get("Active Devices"), why);
        assertTrue(jmd.get("State").startsWith("clean"), "jmd detail State: " + jmd.get("State") + "; " + why);
        assertFalse(jmd.get("State").contains("degraded"), why);

        readBack(c, d, members(c), List.of(), s, why);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("degradedCases")
    void jmdReadsTheKernelsArrayWithMembersMissing(RaidCase c) throws Exception {
        assumeJmdHasLevel(c);
        KernelVm.Section s = kernelMade(c);
        String why = c.name() + " without slots " + c.dropSlots() + "; made by " + vm(c).describe()
            + "; guest said:\n" + s.text();
        Path d = Files.createDirectories(dir.resolve(c.name() + "-degraded"));
        List<Path> kept = new ArrayList<>();
        for (int slot : c.keptSlots()) {
            Path copy = d.resolve("m" + slot + ".img");
            ExternalTool.run("cp", "--sparse=always", members(c).get(slot).toString(), copy.toString()).assertSuccess();
            kept.add(copy);
        }
        readBack(c, d, kept, List.of("--run"), s, why);
    }

    /** Serves {@code members} with jmd, copies the whole export out and compares it with the kernel's. */
    private static void readBack(RaidCase c, Path d, List<Path> members, List<String> serveArgs, KernelVm.Section s,
                                 String why) throws Exception {
        Path out = d.resolve("read-back.bin");
        Files.deleteIfExists(out);
        try (JmdServer server = JmdServer.start(d, serveArgs, members)) {
            assertEquals(s.value("size"), Long.toString(server.sizeBytes()), "export size vs the kernel's array: " + why);
            server.readAll(out);
            server.stop();
        }
        assertNull(ArrayPattern.checkPattern(out), why);
        assertEquals(s.value("sha256"), ArrayPattern.sha256(out), "whole array as jmd reads it vs the kernel: " + why);
        Files.delete(out);
    }
}

package io.jmd.kernel;

import io.jmd.md.format.RaidLevel;
import io.jmd.testutil.ExternalTool;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * jmd → Linux: jmd creates an array and writes the pattern through NBD (qemu-io), stops on
 * SIGTERM; the real md driver in a VM then assembles it clean, mdadm --detail agrees with jmd, a
 * check scrub finds no mismatch and the whole array hashes to what was written. Degraded: jmd
 * serves with members left out (--run) while writing; the kernel assembles all members, leaves the
 * stale ones out, reads the right data, and after they are added back recovers them to a clean,
 * consistent array.
 *
 * <p>All arrays of one kernel run in one VM boot (TCG emulation: each boot costs seconds). A level
 * jmd does not have yet (io.jmd.md.Personalities) is skipped with a message naming it, and turns on
 * by itself when the level lands.
 */
@Tag("interop")
@Tag("kernel")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JmdToKernelTest {
    /** jmd's "not yet" answers to create (a usage error, exit 2): the case is pending, not failing. */
    static final Pattern PENDING = Pattern.compile("(?i)not supported|cannot create this level yet|unsupported|not yet");
    static final String HOMEHOST = "kvmtest";

    @TempDir
    static Path dir;

    /** What the host side made of one array before the VM ran. */
    record Made(RaidCase c, long sizeBytes, Map<String, String> jmdDetail, String serveLog, String pending, Throwable error) {
    }

    private final Map<String, Made> made = new LinkedHashMap<>();
    private final VmBatches vms = new VmBatches(List.of());

    static List<RaidCase> cases() {
        return RaidCase.all();
    }

    static List<RaidCase> degradedCases() {
        return RaidCase.degradable();
    }

    @BeforeAll
    void makeArraysAndRunKernel() throws Exception {
        ExternalTool.require("qemu-io");
        ExternalTool.require("nbdinfo");
        for (RaidCase c : RaidCase.all()) {
            make(c, false);
            if (!c.dropSlots().isEmpty()) {
                make(c, true);
            }
        }
        vms.run();
    }

    private void make(RaidCase c, boolean degraded) {
        String section = section(c, degraded);
        String prefix = degraded ? "d" : "";
        long start = System.nanoTime();
        try {
            Path d = Files.createDirectories(dir.resolve(section));
            List<Path> members = new ArrayList<>();
            for (int i = 0; i < c.devices(); i++) {
                members.add(d.resolve("m" + i + ".img"));
            }
            String pending = c.pendingInJmd(true).orElse(null);
            if (pending != null) {
                made.put(section, new Made(c, 0, Map.of(), "", pending, null));
                return;
            }
            List<String> args = new ArrayList<>(List.of("create"));
            args.addAll(c.createOptions());
            args.addAll(List.of("--homehost=" + HOMEHOST, "--name=" + c.name(), "--member-size=" + c.memberSize()));
            members.forEach(m -> args.add(m.toString()));
            ExternalTool.Result created = JmdCli.run(args);
            if (created.exitCode() == 2 && PENDING.matcher(created.stderr()).find()) {
                made.put(section, new Made(c, 0, Map.of(), "", c.name() + " is pending in jmd: " + created.stderr().strip(), null));
                return;
            }
            created.assertSuccess();
            List<Path> served = new ArrayList<>();
            for (int slot : degraded ? c.keptSlots() : java.util.stream.IntStream.range(0, c.devices()).boxed().toList()) {
                served.add(members.get(slot));
            }
            long size;
            String log;
            try (JmdServer server = JmdServer.start(d, degraded ? List.of("--run") : List.of(), served)) {
                size = server.sizeBytes();
                server.writePattern(d, size);
                log = server.stop();
            }
            List<String> detailArgs = new ArrayList<>(List.of("detail"));
            served.forEach(m -> detailArgs.add(m.toString()));
            Map<String, String> jmdDetail = GuestScript.parseDetail(JmdCli.run(detailArgs).assertSuccess().stdout());
            made.put(section, new Made(c, size, jmdDetail, log, null, null));
            List<String> serials = GuestScript.serials(prefix, c);
            for (int i = 0; i < c.devices(); i++) {
                vms.drive(c, KernelVm.Drive.rw(members.get(i), serials.get(i)));
            }
            List<String> readd = degraded ? c.dropSlots().stream().map(serials::get).toList() : List.of();
            vms.script(c).assembleAndCheck(section, c, serials, readd);
            KernelVm.log("jmd made and wrote " + section + " in " + (System.nanoTime() - start) / 1_000_000 + " ms");
        } catch (Throwable t) {
            made.put(section, new Made(c, 0, Map.of(), "", null, t));
        }
    }

    static String section(RaidCase c, boolean degraded) {
        return degraded ? c.name() + "-degraded" : c.name();
    }

    /** The host side's record of {@code c}, skipping a pending level and rethrowing a host failure. */
    private Made made(RaidCase c, boolean degraded) {
        Made m = made.get(section(c, degraded));
        Assumptions.assumeTrue(m.pending() == null, () -> m.pending());
        if (m.error() instanceof RuntimeException e) { // a skip (a client missing off CI) stays a skip
            throw e;
        }
        if (m.error() instanceof Error e) {
            throw e;
        }
        if (m.error() != null) {
            fail("jmd could not make " + section(c, degraded) + ": " + m.error(), m.error());
        }
        return m;
    }

    private KernelVm.Outcome vm(RaidCase c) {
        return vms.outcome(c);
    }

    private KernelVm.Section guest(RaidCase c, boolean degraded) {
        return vm(c).section(section(c, degraded));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void kernelAssemblesCleanAndReadsWhatJmdWrote(RaidCase c) {
        Made m = made(c, false);
        KernelVm.Section s = guest(c, false);
        String why = c.name() + " on " + vm(c).kernelRelease() + "; guest said:\n" + s.text();
        assertTrue(m.serveLog().contains("stopped, clean"), "jmd serve's stop on SIGTERM:\n" + m.serveLog());
        assertEquals("0", s.value("assemble_rc"), why);
        assertEquals(c.redundant() ? "idle" : "none", s.value("sync_action"), "the kernel resyncs what jmd stopped clean: " + why);
        assertFalse(s.block("dmesg").contains("not clean"), why);
        Map<String, String> kernel = GuestScript.parseDetail(s.block("detail"));
        assertDetailAgrees(c, m.jmdDetail(), kernel, why);
        assertTrue(kernel.get("State").startsWith("clean"), why);
        assertFalse(kernel.get("State").contains("degraded"), why);
        assertEquals(Integer.toString(c.devices()), kernel.get("Active Devices"), why);
        assertEquals("0", kernel.get("Failed Devices"), why);
        assertEquals(Long.toString(m.sizeBytes()), s.value("size"), "array size in bytes: " + why);
        if (c.redundant()) {
            assertEquals("0", s.value("mismatch_cnt"), "check scrub: " + why);
        }
        assertEquals(ArrayPattern.expectedSha256(m.sizeBytes()), s.value("sha256"), "array content: " + why);
        assertEquals("0", s.value("stop_rc"), why);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("degradedCases")
    void kernelAssemblesDegradedAndRecoversTheMembersJmdLeftOut(RaidCase c) {
        Made m = made(c, true);
        KernelVm.Section s = guest(c, true);
        String why = c.name() + " without slots " + c.dropSlots() + " on " + vm(c).kernelRelease()
            + "; guest said:\n" + s.text();
        assertEquals("0", s.value("assemble_rc"), "mdadm --assemble (without --run) of all members: " + why);
        Map<String, String> kernel = GuestScript.parseDetail(s.block("detail"));
        assertDetailAgrees(c, m.jmdDetail(), kernel, why);
        assertTrue(kernel.get("State").contains("degraded"), why);
        assertEquals(Integer.toString(c.keptSlots().size()), kernel.get("Active Devices"), why);
        assertEquals(Long.toString(m.sizeBytes()), s.value("size"), why);
        String expected = ArrayPattern.expectedSha256(m.sizeBytes());
        assertEquals(expected, s.value("sha256"), "degraded array content: " + why);
        for (int i = 0; i < c.dropSlots().size(); i++) {
            assertEquals("0", s.value("add_rc_" + i), why);
        }
        assertEquals("0", s.value("recovery_rc"), why);
        Map<String, String> recovered = GuestScript.parseDetail(s.block("detail2"));
        assertEquals(Integer.toString(c.devices()), recovered.get("Active Devices"), "after recovery: " + why);
        assertFalse(recovered.get("State").contains("degraded"), "after recovery: " + why);
        assertEquals("0", s.value("recovered_mismatch_cnt"), "check scrub after recovery: " + why);
        assertEquals(expected, s.value("recovered_sha256"), "content after recovery: " + why);
        assertEquals("0", s.value("stop_rc"), why);
    }

    static List<Arguments> bitmapSections() {
        List<Arguments> out = new ArrayList<>();
        for (RaidCase c : RaidCase.all()) {
            if (c.bitmap()) {
                out.add(Arguments.of(c, false));
                if (!c.dropSlots().isEmpty()) {
                    out.add(Arguments.of(c, true));
                }
            }
        }
        return out;
    }

    /** jmd keeps its internal bitmap current: the kernel loads it without forcing a full recovery. */
    @ParameterizedTest(name = "{0} degraded={1}")
    @MethodSource("bitmapSections")
    void kernelTakesJmdsBitmapAsCurrent(RaidCase c, boolean degraded) {
        made(c, degraded);
        KernelVm.Section s = guest(c, degraded);
        String dmesg = s.block("dmesg");
        assertFalse(dmesg.contains("out of date"), "the kernel finds jmd's bitmap stale: " + section(c, degraded)
            + " on " + vm(c).kernelRelease() + ":\n" + dmesg);
        assertFalse(dmesg.contains("bitmap") && dmesg.contains("error"), dmesg);
    }

    /** The fields jmd detail and mdadm --detail both print, and the shape the case asked for. */
    static void assertDetailAgrees(RaidCase c, Map<String, String> jmd, Map<String, String> kernel, String why) {
        assertEquals(c.level().mdadmName(), kernel.get("Raid Level"), why);
        assertEquals(Integer.toString(c.devices()), kernel.get("Raid Devices"), why);
        assertEquals(HOMEHOST + ":" + c.name(), firstWord(kernel.get("Name")), why);
        for (String key : List.of("UUID", "Array Size")) {
            assertEquals(firstWord(jmd.get(key)), firstWord(kernel.get(key)), key + ": jmd vs kernel: " + why);
        }
        // jmd detail may print a line mdadm leaves out for a level (or not yet print one): compare
        // the lines both print.
        for (String key : List.of("Raid Level", "Raid Devices", "Used Dev Size", "Version", "Intent Bitmap", "Layout",
            "Chunk Size", "Name")) {
            if (jmd.containsKey(key) && kernel.containsKey(key)) {
                assertEquals(firstWord(jmd.get(key)), firstWord(kernel.get(key)), key + ": jmd vs kernel: " + why);
            }
        }
        if (c.detailLayout() != null) {
            assertEquals(c.detailLayout(), kernel.get("Layout"), why);
        }
        if (c.chunkKib() > 0) {
            assertEquals(c.chunkKib() + "K", kernel.get("Chunk Size"), why);
        }
        assertEquals(c.bitmap() ? "Internal" : null, kernel.get("Intent Bitmap"), why);
    }

    static String firstWord(String s) {
        return s == null ? null : s.strip().split("\\s+")[0];
    }
}

package io.jmd.kernel;

import io.jmd.testutil.ExternalTool;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The real Linux md driver, booted with mdadm in a small VM by scripts/kernel-vm/kernel-vm: runs a
 * guest shell script against image files (virtio disks, found in the guest by serial with
 * {@code disk SERIAL}) and returns what the script printed.
 *
 * <p>Everything the VM needs comes from Debian packages at test time (the script fetches and
 * caches them). A prerequisite that cannot be had skips the test on a developer's machine and
 * fails it under CI, like {@link ExternalTool#require}.
 *
 * <p>Output protocol of the script (see its header): the guest's output between
 * {@code ===== JMD-VM BEGIN =====} and {@code ===== JMD-VM END rc=N =====}, then the kernel log.
 * On top of that, {@link Result#sections()} splits the output into named sections
 * ({@code ##### CASE name} .. {@code ##### END name}) holding {@code @ key=value} lines.
 */
public final class KernelVm {
    /** Which Debian cloud kernel to boot. */
    public enum Kernel {
        /** The newest linux-image-*-cloud-amd64 apt offers (6.12 on bookworm-security). */
        NEWEST("newest"),
        /**
         * What the linux-image-cloud-amd64 meta package depends on (bookworm's 6.1). It still has
         * md's linear personality, which Linux dropped from 6.8 to 6.13.
         */
        DEFAULT("default");

        final String spec;

        Kernel(String spec) {
            this.spec = spec;
        }
    }

    /** One virtio disk: {@code serial} is how the guest finds it (1-20 of [A-Za-z0-9._-]). */
    public record Drive(Path file, String serial, boolean readOnly) {
        public Drive {
            if (!serial.matches("[A-Za-z0-9._-]{1,20}")) {
                throw new IllegalArgumentException("virtio serial must be 1-20 of [A-Za-z0-9._-]: " + serial);
            }
        }

        public static Drive rw(Path file, String serial) {
            return new Drive(file, serial, false);
        }

        public static Drive ro(Path file, String serial) {
            return new Drive(file, serial, true);
        }
    }

    /** What one guest section printed: its text and its {@code @ key=value} lines. */
    public record Section(String name, String text, Map<String, String> values) {
        /** The value of {@code key}, failing with the section's text when it is missing. */
        public String value(String key) {
            String v = values.get(key);
            if (v == null) {
                fail("guest section " + name + " has no '@ " + key + "=' line; it printed:\n" + text);
            }
            return v;
        }

        /** The lines that start with {@code prefix + "| "}, without it (e.g. an mdadm --detail). */
        public String block(String prefix) {
            StringBuilder b = new StringBuilder();
            for (String line : text.split("\n", -1)) {
                if (line.startsWith(prefix + "| ")) {
                    b.append(line, prefix.length() + 2, line.length()).append('\n');
                }
            }
            return b.toString();
        }
    }

    /** A finished VM run. {@code output} is what the guest script printed. */
    public record Result(int exitCode, String output, String dmesg, String console, Duration wallTime) {
        public Result assertSuccess() {
            if (exitCode != 0) {
                fail("guest script exited " + exitCode + "\n--- output:\n" + output + "\n--- dmesg (tail):\n"
                    + tail(dmesg, 60) + (output.isEmpty() ? "\n--- console (tail):\n" + tail(console, 60) : ""));
            }
            return this;
        }

        /** The {@code ##### CASE name} sections of the output, by name, in order. */
        public Map<String, Section> sections() {
            Map<String, Section> out = new LinkedHashMap<>();
            Matcher m = SECTION.matcher(output);
            while (m.find()) {
                String name = m.group(1);
                String text = m.group(2);
                Map<String, String> values = new LinkedHashMap<>();
                Matcher v = VALUE.matcher(text);
                while (v.find()) {
                    values.put(v.group(1), v.group(2).strip());
                }
                out.put(name, new Section(name, text, values));
            }
            return out;
        }
    }

    static final Pattern SECTION = Pattern.compile("(?ms)^##### CASE (\\S+)\\n(.*?)^##### END \\1$");
    static final Pattern VALUE = Pattern.compile("(?m)^@ ([A-Za-z0-9_.-]+)=(.*)$");
    private static final Pattern END = Pattern.compile("(?m)^===== JMD-VM END rc=(\\d+) =====$");

    /** Fetching the packages and building the initramfs once: apt, ~40 MB of downloads, a few seconds. */
    static final Duration PREPARE_TIMEOUT = Duration.ofMinutes(10);

    /** kernel-vm's exit code when a prerequisite is missing. */
    static final int EXIT_PREREQUISITE = 3;

    private static final Map<Kernel, KernelVm> PREPARED = new EnumMap<>(Kernel.class);

    private final Kernel kernel;
    private final Path build;
    private final Map<String, String> info;

    private KernelVm(Kernel kernel, Path build, Map<String, String> info) {
        this.kernel = kernel;
        this.build = build;
        this.info = info;
    }

    /**
     * The VM for {@code kernel}: fetches and builds on first use (once per test JVM). Skips the
     * caller when a prerequisite is missing, or fails it under CI.
     */
    public static KernelVm prepare(Kernel kernel) {
        synchronized (PREPARED) {
            KernelVm vm = PREPARED.get(kernel);
            if (vm == null) {
                vm = doPrepare(kernel);
                PREPARED.put(kernel, vm);
            }
            return vm;
        }
    }

    private static KernelVm doPrepare(Kernel kernel) {
        requireTool("bash");
        Proc p = Proc.run(List.of(script().toString(), "prepare", "--kernel", kernel.spec), PREPARE_TIMEOUT);
        if (p.exitCode() == EXIT_PREREQUISITE) {
            missing("kernel-vm cannot get its prerequisites:\n" + p.stderr());
        }
        if (p.exitCode() != 0) {
            fail("kernel-vm prepare exited " + p.exitCode() + "\nstdout:\n" + p.stdout() + "\nstderr:\n" + p.stderr());
        }
        Map<String, String> info = new LinkedHashMap<>();
        for (String line : p.stdout().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                info.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        String build = info.get("BUILD");
        if (build == null) {
            fail("kernel-vm prepare printed no BUILD=:\n" + p.stdout());
        }
        return new KernelVm(kernel, Path.of(build), info);
    }

    /** One VM boot's work: the kernel, a guest script and its disks. */
    public record Batch(Kernel kernel, String script, List<Drive> drives) {
    }

    /** What became of a batch: its result, or what went wrong preparing or running the VM. */
    public record Outcome(KernelVm vm, Result result, Throwable error) {
        /** The section {@code name}, or the batch's error rethrown (a skip stays a skip). */
        public Section section(String name) {
            return KernelVm.section(result, error, name);
        }

        public String kernelRelease() {
            return vm == null ? "(no kernel)" : vm.kernelRelease();
        }

        public String describe() {
            return vm == null ? "(no kernel)" : vm.describe();
        }
    }

    /**
     * Prepares and runs the batches, all boots at the same time (each TCG guest keeps one core
     * busy), and returns their outcomes by batch name.
     */
    public static Map<String, Outcome> runAll(Map<String, Batch> batches) {
        Map<String, Outcome> out = new LinkedHashMap<>();
        List<Thread> threads = new ArrayList<>();
        for (var e : batches.entrySet()) {
            threads.add(Thread.ofPlatform().name("kernel-vm-" + e.getKey()).start(() -> {
                Outcome o;
                KernelVm vm = null;
                try {
                    Batch b = e.getValue();
                    vm = prepare(b.kernel());
                    o = new Outcome(vm, vm.run(b.script(), b.drives(), timeoutFor(b.drives().size())), null);
                } catch (RuntimeException | Error t) {
                    o = new Outcome(vm, null, t);
                }
                synchronized (out) {
                    out.put(e.getKey(), o);
                }
            }));
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted while the VMs ran", e);
            }
        }
        synchronized (out) {
            return new LinkedHashMap<>(out);
        }
    }

    /** A VM run's time limit for {@code drives} disks: boot, plus a generous share per array member. */
    public static Duration timeoutFor(int drives) {
        return Duration.ofSeconds(120 + 20L * drives);
    }

    /**
     * The section {@code name} of a batch run, rethrowing what went wrong with the VM itself
     * ({@code error}: a skip stays a skip, a failure a failure).
     */
    public static Section section(Result result, Throwable error, String name) {
        if (error instanceof RuntimeException e) {
            throw e;
        }
        if (error instanceof Error e) {
            throw e;
        }
        if (result == null) {
            return fail("no VM ran for " + name);
        }
        result.assertSuccess();
        Section s = result.sections().get(name);
        if (s == null) {
            fail("the guest printed no section for " + name + ":\n" + result.output());
        }
        return s;
    }

    /** The guest kernel's release (uname -r), e.g. 6.12.117+deb12-cloud-amd64. */
    public String kernelRelease() {
        return info.get("KERNEL_RELEASE");
    }

    /** The Debian package and version of the guest's kernel and mdadm, for messages. */
    public String describe() {
        return info.get("KERNEL_PACKAGE") + " " + info.get("KERNEL_PACKAGE_VERSION") + ", mdadm " + info.get("MDADM_VERSION");
    }

    public Kernel kernel() {
        return kernel;
    }

    /** Boots, runs {@code guestScript} (busybox sh) against {@code drives}, powers off. */
    public Result run(String guestScript, List<Drive> drives, Duration timeout) {
        try {
            Path work = Files.createTempDirectory("jmd-kernel-vm-");
            try {
                Path scriptFile = work.resolve("guest.sh");
                Files.writeString(scriptFile, guestScript, StandardCharsets.UTF_8);
                List<String> cmd = new ArrayList<>(List.of(script().toString(), "run", "--build", build.toString(),
                    "--script", scriptFile.toString(), "--timeout", Long.toString(timeout.toSeconds())));
                for (Drive d : drives) {
                    cmd.add(d.readOnly() ? "--drive-ro" : "--drive");
                    cmd.add(d.file().toAbsolutePath().toString());
                    cmd.add("--serial");
                    cmd.add(d.serial());
                }
                long start = System.nanoTime();
                Proc p = Proc.run(cmd, timeout.plusSeconds(60));
                Duration wall = Duration.ofNanos(System.nanoTime() - start);
                log(kernelRelease() + " with " + drives.size() + " disks: kernel-vm exited " + p.exitCode() + " after "
                    + wall.toMillis() + " ms");
                if (p.exitCode() == EXIT_PREREQUISITE) {
                    missing("kernel-vm cannot run:\n" + p.stderr());
                }
                keepConsole(p.stdout());
                Result r = parse(p, wall);
                StringBuilder times = new StringBuilder();
                for (Section s : r.sections().values()) {
                    String b = s.values().get("uptime_begin");
                    String e = s.values().get("uptime_end");
                    if (b != null && e != null) {
                        times.append(String.format(java.util.Locale.ROOT, " %s %.1fs", s.name(),
                            Double.parseDouble(e) - Double.parseDouble(b)));
                    }
                }
                if (!times.isEmpty()) {
                    log("guest time per array:" + times);
                }
                return r;
            } finally {
                deleteTree(work);
            }
        } catch (IOException e) {
            return fail("kernel-vm run: " + e, e);
        }
    }

    private static Result parse(Proc p, Duration wall) {
        String console = p.stdout().replace("\r", "");
        int begin = console.indexOf("===== JMD-VM BEGIN =====\n");
        Matcher end = END.matcher(console);
        if (begin < 0 || !end.find()) {
            fail("the VM did not finish its script (kernel-vm exit " + p.exitCode() + ")\nstderr:\n" + p.stderr()
                + "\nconsole (tail):\n" + tail(console, 80));
        }
        String output = console.substring(begin + "===== JMD-VM BEGIN =====\n".length(), end.start());
        int dm = console.indexOf("===== JMD-VM DMESG =====\n", end.end());
        int dmEnd = console.indexOf("===== JMD-VM DMESG END =====", Math.max(dm, 0));
        String dmesg = dm < 0 || dmEnd < 0 ? "" : console.substring(dm + "===== JMD-VM DMESG =====\n".length(), dmEnd);
        return new Result(Integer.parseInt(end.group(1)), output, dmesg, console, wall);
    }

    /**
     * Keeps the whole console of the last runs under target/kernel-vm-logs (the test's temporary
     * folders are gone when a CI failure is looked at).
     */
    private void keepConsole(String console) {
        try {
            Path logs = Files.createDirectories(Path.of(System.getProperty("jmd.project.dir", "."), "target", "kernel-vm-logs"));
            Path file = logs.resolve(kernelRelease() + "-" + System.currentTimeMillis() + ".console");
            Files.writeString(file, console.replace("\r", ""), StandardCharsets.UTF_8);
            log("console kept in " + file);
        } catch (IOException e) {
            log("could not keep the console: " + e);
        }
    }

    /** Progress for the test log (stderr): these tests take minutes, the log says where they went. */
    static void log(String message) {
        System.err.println("kernel-vm: " + message);
    }

    static String tail(String text, int lines) {
        String[] all = text.split("\n", -1);
        int from = Math.max(0, all.length - lines);
        return String.join("\n", List.of(all).subList(from, all.length));
    }

    /** scripts/kernel-vm/kernel-vm of the project under test. */
    static Path script() {
        Path p = Path.of(System.getProperty("jmd.project.dir", "."), "scripts", "kernel-vm", "kernel-vm");
        if (!Files.isExecutable(p)) {
            fail(p + " is missing or not executable");
        }
        return p;
    }

    private static void requireTool(String name) {
        if (ExternalTool.find(name).isEmpty()) {
            missing(name + " is not installed");
        }
    }

    private static void missing(String message) {
        if (ExternalTool.isCi()) {
            fail(message + "\nCI is set, so a missing kernel-vm prerequisite is a failure, not a skip");
        }
        Assumptions.abort(message);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A finished child process; output through temporary files, so no reader threads. */
    record Proc(int exitCode, String stdout, String stderr) {
        /** The console carries the firmware's escape codes: decode leniently. */
        private static String read(Path file) throws IOException {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        }

        static Proc run(List<String> cmd, Duration timeout) {
            try {
                Path out = Files.createTempFile("jmd-kvm-", ".out");
                Path err = Files.createTempFile("jmd-kvm-", ".err");
                try {
                    Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                        p.descendants().forEach(ProcessHandle::destroyForcibly);
                        p.destroyForcibly().waitFor();
                        fail(String.join(" ", cmd) + " did not finish within " + timeout + "\nstderr:\n"
                            + read(err) + "\nstdout (tail):\n" + tail(read(out), 40));
                    }
                    return new Proc(p.exitValue(), read(out), read(err));
                } finally {
                    Files.deleteIfExists(out);
                    Files.deleteIfExists(err);
                }
            } catch (IOException e) {
                return fail("cannot run " + cmd + ": " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail("interrupted while running " + cmd, e);
            }
        }
    }
}

package io.jmd.nbd;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jmd serve} launched captive by real clients, as the CLI runs it (the same main class the
 * {@code jmd} script execs): by nbdinfo through systemd socket activation, and by
 * nbd_connect_command over stdin/stdout. The array is a RAID-1 over two member files.
 */
@Tag("interop")
class ServeCommandInteropTest {
    private static final long MEMBER_BYTES = 32L << 20;

    @TempDir
    Path dir;
    private Path m0;
    private Path m1;

    @BeforeEach
    void createArray() throws IOException {
        m0 = dir.resolve("m0");
        m1 = dir.resolve("m1");
        for (Path p : List.of(m0, m1)) {
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.setLength(MEMBER_BYTES);
            }
        }
        int rc = io.jmd.cli.Main.run("create", "--level=1", "--raid-devices=2", m0.toString(), m1.toString());
        assertEquals(0, rc, "jmd create");
    }

    /** java -cp (classes + picocli) io.jmd.cli.Main serve ARGS... */
    private static List<String> jmdServe(String... args) {
        String project = System.getProperty("jmd.project.dir", ".");
        String picocli;
        try {
            picocli = Path.of(picocli.CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
        List<String> c = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            io.jmd.testutil.JmdProcess.jvmArgs(), "-cp", Path.of(project, "target", "classes") + File.pathSeparator + picocli,
            "io.jmd.cli.Main", "serve"));
        c.addAll(List.of(args));
        return c;
    }

    @Test
    void nbdinfoRunsJmdServeBySocketActivation() {
        List<String> args = new ArrayList<>(List.of("--json", "--", "["));
        args.addAll(jmdServe(m0.toString(), m1.toString()));
        args.add("]");
        String json = Clients.run("nbdinfo", args.toArray(String[]::new)).stdout();
        assertTrue(json.contains("\"export-name\": \"jmd\"") || json.contains("\"export-size\""), json);
        assertTrue(json.contains("\"can_multi_conn\": true"), json);
        assertTrue(json.contains("raid1"), "the description names the level: " + json);
    }

    @Test
    void connectCommandRunsJmdServeOverStdio() {
        String argv = String.join(", ", jmdServe("--stdio", m0.toString(), m1.toString()).stream()
            .map(a -> "'" + a + "'").toList());
        String script = String.join("\n",
            "h.connect_command([" + argv + "])",
            "h.pwrite(b'r' * 65536, 1048576, nbd.CMD_FLAG_FUA)",
            "assert h.pread(65536, 1048576) == b'r' * 65536",
            "h.flush()",
            "print(h.get_size())",
            "h.shutdown()",
            "");
        String out = Clients.nbdsh("-c", script).stdout();
        assertTrue(Long.parseLong(out.strip()) > 0, out);
    }
}

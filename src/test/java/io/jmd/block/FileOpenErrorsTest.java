package io.jmd.block;

import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every way opening a member can fail gives a message that names the path and the problem. */
class FileOpenErrorsTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension();

    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        dir = BlockTests.scratchDir(BlockTests.targetDir(), "open-");
    }

    @AfterEach
    void removeDir() throws IOException {
        BlockTests.deleteTree(dir);
    }

    private DeviceOpenException openFails(FileBlockDevice.Options options, String expected) {
        DeviceOpenException e = assertThrows(DeviceOpenException.class, () -> FileBlockDevice.open(jmd.env(), options));
        assertTrue(e.getMessage().startsWith(options.path().toString()), "names the path: " + e.getMessage());
        assertTrue(e.getMessage().contains(expected), "says '" + expected + "': " + e.getMessage());
        assertEquals(options.path(), e.path());
        return e;
    }

    @Test
    void missing_file() {
        openFails(FileBlockDevice.Options.of(dir.resolve("nope")), "does not exist");
    }

    @Test
    void directory() {
        openFails(FileBlockDevice.Options.of(dir), "is a directory");
    }

    @Test
    void character_device() {
        openFails(FileBlockDevice.Options.of(Path.of("/dev/null")), "is a character device");
    }

    @Test
    void create_refuses_an_existing_file() throws IOException {
        Path file = dir.resolve("m0");
        Files.write(file, new byte[4096]);
        openFails(FileBlockDevice.Options.of(file).create(1 << 20), "already exists");
        assertEquals(4096, Files.size(file), "the existing file is untouched");
    }

    @Test
    void create_in_a_missing_directory() {
        openFails(FileBlockDevice.Options.of(dir.resolve("no/such/dir/m0")).create(1 << 20), "directory does not exist");
    }

    @Test
    void bad_options_are_refused_before_touching_anything() {
        Path p = dir.resolve("m0");
        assertThrows(IllegalArgumentException.class, () -> FileBlockDevice.Options.of(p).queueDepth(0));
        assertThrows(IllegalArgumentException.class, () -> FileBlockDevice.Options.of(p).create(1000));
        assertThrows(IllegalArgumentException.class, () -> FileBlockDevice.Options.of(p).create(4096).readOnly(true));
        assertFalse(Files.exists(p));
    }

    @Test
    void second_open_in_this_process() throws IOException {
        Path file = dir.resolve("m0");
        try (FileBlockDevice first = FileBlockDevice.open(jmd.env(), FileBlockDevice.Options.of(file).create(1 << 20))) {
            openFails(FileBlockDevice.Options.of(file), "already open in this process");
            openFails(FileBlockDevice.Options.of(file).readOnly(true), "already open in this process");
        }
        FileBlockDevice.open(jmd.env(), file).close(); // closed: the lock is gone
    }

    /** Another process holds a POSIX lock on the member (as another jmd would). */
    @Test
    void locked_by_another_process() throws Exception {
        Path python = ExternalTool.find("python3").orElse(null);
        Assumptions.assumeTrue(python != null, "python3 not installed");
        Path file = dir.resolve("m0");
        Files.write(file, new byte[1 << 20]);
        Process holder = new ProcessBuilder(python.toString(), "-c",
            "import fcntl,sys\nf=open(sys.argv[1],'r+b')\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint('locked',flush=True)\nsys.stdin.read()",
            file.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", out.readLine());
            openFails(FileBlockDevice.Options.of(file), "locked by another process");
            openFails(FileBlockDevice.Options.of(file).readOnly(true), "locked by another process");
        } finally {
            holder.getOutputStream().close();
            assertTrue(holder.waitFor(60, TimeUnit.SECONDS));
        }
        FileBlockDevice.open(jmd.env(), file).close();
    }

    /** Root passes permission checks, so this runs only for other users. */
    @Test
    void permission_denied() throws IOException {
        Assumptions.assumeFalse("root".equals(System.getProperty("user.name")), "root is never denied");
        Path file = dir.resolve("m0");
        Files.write(file, new byte[4096]);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
        openFails(FileBlockDevice.Options.of(file), "permission denied");
        FileBlockDevice.open(jmd.env(), FileBlockDevice.Options.of(file).readOnly(true)).close();
    }
}

package io.jmd.nbd.client;

import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad nbd:// members on the command line: one clear line, and nothing left on disk. */
class NbdMemberCliTest {
    @TempDir
    Path dir;

    @Test
    void aBadUriIsAUsageErrorBeforeAnythingIsWritten() {
        ExternalTool.Result r = JmdProcess.run(dir, "create", "--level=1", "--raid-devices=2", "--member-size=8M",
            "a.img", "nbds://127.0.0.1/x");
        assertEquals(2, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains("nbds://127.0.0.1/x: nbds requires TLS"), r.stderr());
        assertFalse(Files.exists(dir.resolve("a.img")));
    }

    @Test
    void anUnreachableExportFailsCreateAndTheNewFileIsRemoved() {
        String uri = "nbd+unix:///x?socket=" + dir.resolve("nobody.sock");
        ExternalTool.Result r = JmdProcess.run(dir, "create", "--level=1", "--raid-devices=2", "--member-size=8M",
            "a.img", uri);
        assertEquals(1, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains(uri + ": cannot connect to unix socket"), r.stderr());
        assertFalse(Files.exists(dir.resolve("a.img")), "the member file create made is gone again");
    }

    @Test
    void theSameUriTwiceIsRefused() {
        String uri = "nbd://127.0.0.1:1/x";
        ExternalTool.Result r = JmdProcess.run(dir, "create", "--level=1", "--raid-devices=2", uri, uri);
        assertEquals(2, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains(uri + " is listed twice"), r.stderr());
        ExternalTool.Result e = JmdProcess.run(dir, "examine", "nbd://127.0.0.1:1/x");
        assertEquals(1, e.exitCode());
        assertTrue(e.stderr().contains("cannot connect to 127.0.0.1:1"), e.stderr());
    }
}

package io.jmd.cli;

import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The jmd CLI as a user runs it: a real process, real files, and the real mdadm and blkid as judges. */
final class CliTest {
    @TempDir
    Path dir;

    private ExternalTool.Result jmd(String... args) {
        return JmdProcess.run(dir, args);
    }

    private void create(String name, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("create", "--level=1", "--raid-devices=2", "--name=" + name,
            "--homehost=ci", "--member-size=32M"));
        args.addAll(List.of(extra));
        args.addAll(List.of("a.img", "b.img"));
        jmd(args.toArray(String[]::new)).assertSuccess();
    }

    @Test
    @Tag("interop")
    void createdMembersAreAcceptedByMdadmAndBlkid() {
        ExternalTool.require("mdadm");
        ExternalTool.require("blkid");
        create("clitest");
        String jmdExamine = jmd("examine", "a.img").assertSuccess().stdout();
        for (String m : List.of("a.img", "b.img")) {
            String ex = ExternalTool.run("mdadm", "--examine", dir.resolve(m).toString()).assertSuccess().stdout();
            assertTrue(ex.contains("Raid Level : raid1"), ex);
            assertTrue(ex.contains("Raid Devices : 2"), ex);
            assertTrue(ex.contains("Name : ci:clitest"), ex);
            assertTrue(Pattern.compile("Checksum : [0-9a-f]+ - correct").matcher(ex).find(), ex);
            assertTrue(ex.contains("State : clean"), ex);
            assertEquals(field(jmdExamine, "Array UUID"), field(ex, "Array UUID"));
            String blkid = ExternalTool.run("blkid", "-p", dir.resolve(m).toString()).assertSuccess().stdout();
            assertTrue(blkid.contains("TYPE=\"linux_raid_member\""), blkid);
        }
        String mdadmA = ExternalTool.run("mdadm", "--examine", "a.img").stdout();
        // same working directory so the first line ("a.img:") matches too
        String mdadmHere = runIn(dir, "mdadm", "--examine", "a.img");
        assertEquals(mdadmHere, jmdExamine, "jmd examine agrees with mdadm --examine line by line");
        assertFalse(mdadmA.isEmpty() && mdadmHere.isEmpty());
    }

    @Test
    @Tag("interop")
    void internalBitmapIsReadByMdadm() throws Exception {
        ExternalTool.require("mdadm");
        create("bm", "--bitmap=internal");
        String ex = runIn(dir, "mdadm", "--examine", "a.img");
        assertTrue(ex.contains("Internal Bitmap : 8 sectors from superblock"), ex);
        assertEquals(ex, jmd("examine", "a.img").assertSuccess().stdout());
        byte[] head = Files.readAllBytes(dir.resolve("a.img"));
        Path bitmap = dir.resolve("bitmap.bin");
        Files.write(bitmap, java.util.Arrays.copyOfRange(head, 8192, 8192 + 65536));
        String x = ExternalTool.run("mdadm", "-X", bitmap.toString()).assertSuccess().stdout();
        assertTrue(x.contains("Filename : " + bitmap), x);
        assertTrue(x.contains("Magic : 6d746962"), x);
        assertTrue(x.contains("bitmap(s) dirty") || x.contains("dirty"), x);
    }

    @Test
    void assembleAndDetailAfterCreate() {
        create("ad");
        String out = jmd("assemble", "a.img", "b.img").assertSuccess().stdout();
        assertTrue(out.contains("has been started with 2 drives (out of 2): raid1 [2/2] [UU]"), out);
        String detail = jmd("detail", "a.img", "b.img").assertSuccess().stdout();
        assertTrue(detail.contains("Raid Level : raid1"), detail);
        assertTrue(detail.contains("State : clean"), detail);
        assertTrue(detail.contains("Active Devices : 2"), detail);
        assertTrue(detail.contains("active sync       a.img"), detail);
    }

    @Test
    void degradedAssemblyNeedsRun() throws Exception {
        create("deg");
        byte[] before = sha256(dir.resolve("a.img"));
        ExternalTool.Result r = jmd("assemble", "a.img");
        assertEquals(1, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains("would start degraded with 1 of 2 devices"), r.stderr());
        assertTrue(r.stderr().contains("--run"), r.stderr());
        assertEquals(HexFormat.of().formatHex(before), HexFormat.of().formatHex(sha256(dir.resolve("a.img"))), "refusal writes nothing");
        String ok = jmd("assemble", "--run", "a.img").assertSuccess().stdout();
        assertTrue(ok.contains("[2/1] [U_]"), ok);
        ExternalTool.Result stale = jmd("assemble", "a.img", "b.img");
        assertEquals(1, stale.exitCode());
        assertTrue(stale.stderr().contains("b.img is stale"), stale.stderr());
    }

    @Test
    void wrongArgumentsAreRefusedClearlyAndWriteNothing() throws Exception {
        ExternalTool.Result level = jmd("create", "--level=7", "--raid-devices=2", "--member-size=8M", "x.img", "y.img");
        assertEquals(2, level.exitCode());
        assertTrue(level.stderr().contains("--level=7: not a RAID level"), level.stderr());
        ExternalTool.Result count = jmd("create", "--level=1", "--raid-devices=3", "--member-size=8M", "x.img", "y.img");
        assertEquals(2, count.exitCode());
        assertTrue(count.stderr().contains("--raid-devices=3 but 2 members given"), count.stderr());
        ExternalTool.Result chunk = jmd("create", "--level=1", "--raid-devices=2", "--chunk=64", "--member-size=8M", "x.img", "y.img");
        assertEquals(2, chunk.exitCode());
        assertTrue(chunk.stderr().contains("raid1 has no chunk size"), chunk.stderr());
        ExternalTool.Result missing = jmd("create", "--level=1", "--raid-devices=2", "x.img", "y.img");
        assertEquals(1, missing.exitCode());
        assertTrue(missing.stderr().contains("x.img: no such file"), missing.stderr());
        ExternalTool.Result badSize = jmd("create", "--level=1", "--raid-devices=2", "--member-size=lots", "x.img", "y.img");
        assertEquals(2, badSize.exitCode());
        assertTrue(badSize.stderr().contains("is not a size"), badSize.stderr());
        ExternalTool.Result unknown = jmd("create", "--level=1", "--raid-devices=2", "--frobnicate", "x.img", "y.img");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.stderr().contains("Unknown option: '--frobnicate'"), unknown.stderr());
        assertFalse(Files.exists(dir.resolve("x.img")), "no member file left behind");
        assertFalse(Files.exists(dir.resolve("y.img")));

        create("keep");
        byte[] before = sha256(dir.resolve("a.img"));
        ExternalTool.Result again = jmd("create", "--level=1", "--raid-devices=2", "a.img", "b.img");
        assertEquals(1, again.exitCode());
        assertTrue(again.stderr().contains("a.img appears to be part of a raid array"), again.stderr());
        assertTrue(again.stderr().contains("--force"), again.stderr());
        assertEquals(HexFormat.of().formatHex(before), HexFormat.of().formatHex(sha256(dir.resolve("a.img"))));
    }

    @Test
    void examineRefusesWhatIsNotAMember() throws Exception {
        Files.write(dir.resolve("junk.img"), new byte[1 << 20]);
        ExternalTool.Result r = jmd("examine", "junk.img");
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().contains("junk.img: no valid md v1 superblock"), r.stderr());
        assertTrue(r.stderr().contains("bad magic"), r.stderr());
        ExternalTool.Result none = jmd("examine", "nothere.img");
        assertEquals(1, none.exitCode());
        assertTrue(none.stderr().contains("nothere.img"), none.stderr());
    }

    static String field(String examine, String key) {
        Matcher m = Pattern.compile("^\\s*" + Pattern.quote(key) + " : (.*)$", Pattern.MULTILINE).matcher(examine);
        assertTrue(m.find(), key + " in\n" + examine);
        return m.group(1).trim();
    }

    static String runIn(Path dir, String tool, String... args) {
        try {
            List<String> cmd = new java.util.ArrayList<>();
            cmd.add(ExternalTool.require(tool).toString());
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            return out;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static byte[] sha256(Path p) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
    }
}

package io.jmd.cli;

import io.jmd.testutil.ExternalTool;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jmd create} for every level with mdadm's --layout names, judged by the real mdadm
 * --examine; then {@code jmd assemble} starts each array. In-process (Main.run) to stay quick.
 */
final class CreateLevelsTest {
    @TempDir
    Path dir;

    /** --level, --raid-devices, --layout (null: default), what mdadm prints for the layout (null: no line). */
    record Spec(String level, int devices, String layout, String mdadmLevel, String mdadmLayout) {
    }

    static final List<Spec> SPECS = List.of(
        new Spec("linear", 2, null, "linear", null),
        new Spec("0", 3, null, "raid0", "original"),
        new Spec("stripe", 3, "alternate", "raid0", "alternate"),
        new Spec("4", 3, null, "raid4", null),
        new Spec("5", 3, null, "raid5", "left-symmetric"),
        new Spec("raid5", 4, "ra", "raid5", "right-asymmetric"),
        new Spec("6", 4, null, "raid6", "left-symmetric"),
        new Spec("6", 5, "left-symmetric-6", "raid6", "left-symmetric-6"),
        new Spec("10", 4, null, "raid10", "near=2"),
        new Spec("10", 4, "f2", "raid10", "far=2"),
        new Spec("raid10", 3, "o3", "raid10", "offset=3"));

    @Test
    @Tag("interop")
    void everyLevelIsCreatedAsMdadmWouldAndAssembles() {
        ExternalTool.require("mdadm");
        int n = 0;
        for (Spec s : SPECS) {
            List<String> members = new ArrayList<>();
            for (int i = 0; i < s.devices(); i++) {
                members.add(dir.resolve("a" + n + "-" + i + ".img").toString());
            }
            n++;
            List<String> args = new ArrayList<>(List.of("create", "--level=" + s.level(), "--raid-devices=" + s.devices(),
                "--chunk=64", "--member-size=20M", "--homehost=ci", "--name=lv" + n));
            if (s.layout() != null) {
                args.add("--layout=" + s.layout());
            }
            args.addAll(members);
            assertEquals(0, Main.run(args.toArray(String[]::new)), "create " + s);
            for (String m : members) {
                String ex = ExternalTool.run("mdadm", "--examine", m).assertSuccess().stdout();
                assertTrue(ex.contains("Raid Level : " + s.mdadmLevel()), ex);
                assertTrue(ex.contains("Raid Devices : " + s.devices()), ex);
                assertTrue(Pattern.compile("Checksum : [0-9a-f]+ - correct").matcher(ex).find(), ex);
                assertTrue(ex.contains("State : clean"), ex);
                if (s.mdadmLayout() != null) {
                    assertTrue(ex.contains("Layout : " + s.mdadmLayout()), s + ":\n" + ex);
                }
            }
            List<String> assemble = new ArrayList<>(List.of("assemble"));
            assemble.addAll(members);
            assertEquals(0, Main.run(assemble.toArray(String[]::new)), "assemble " + s);
        }
    }

    @Test
    void wrongLevelsAndLayoutsAreUsageErrors() {
        String a = dir.resolve("x.img").toString();
        String b = dir.resolve("y.img").toString();
        String c = dir.resolve("z.img").toString();
        assertEquals(2, Main.run("create", "--level=7", "--raid-devices=2", "--member-size=20M", a, b));
        assertEquals(2, Main.run("create", "--level=5", "--raid-devices=3", "--layout=n2", "--member-size=20M", a, b, c));
        assertEquals(2, Main.run("create", "--level=5", "--raid-devices=3", "--layout=left-symmetric-6", "--member-size=20M",
            a, b, c));
        assertEquals(2, Main.run("create", "--level=10", "--raid-devices=3", "--layout=f4", "--member-size=20M", a, b, c));
        assertEquals(2, Main.run("create", "--level=6", "--raid-devices=3", "--member-size=20M", a, b, c));
        assertEquals(2, Main.run("create", "--level=0", "--raid-devices=2", "--bitmap=internal", "--member-size=20M", a, b));
        assertEquals(2, Main.run("create", "--level=5", "--raid-devices=3", "--chunk=3", "--member-size=20M", a, b, c));
    }
}

package io.jmd.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The serve config file, after mdadm.conf's ARRAY lines:
 * <pre>
 *   # comment
 *   ARRAY backup devices=/srv/a.img,/srv/b.img
 *   ARRAY media  devices=/dev/sdb,/dev/sdc read-only run
 * </pre>
 * Every problem is reported with its file and line number, before anything is opened.
 */
final class ServeConfig {
    /** One array to serve. {@code exportName} null means the array's own name. */
    record Entry(String exportName, List<String> members, boolean readOnly, boolean run) {
    }

    private ServeConfig() {
    }

    static List<Entry> parse(Path file, List<String> lines, boolean readOnlyAll, boolean runAll) throws CliException {
        List<Entry> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = file + ":" + (i + 1) + ": ";
            String[] words = line.split("\\s+");
            if (!words[0].equals("ARRAY") || words.length < 3) {
                throw new CliException(where + "expected 'ARRAY <export-name> devices=<m1>,<m2>... [read-only] [run]'");
            }
            String name = words[1];
            if (!names.add(name)) {
                throw new CliException(where + "export name '" + name + "' used twice");
            }
            List<String> devices = null;
            boolean ro = readOnlyAll;
            boolean run = runAll;
            for (String w : Arrays.asList(words).subList(2, words.length)) {
                if (w.startsWith("devices=")) {
                    devices = List.of(w.substring("devices=".length()).split(","));
                } else if (w.equals("read-only") || w.equals("readonly")) {
                    ro = true;
                } else if (w.equals("run")) {
                    run = true;
                } else {
                    throw new CliException(where + "unknown word '" + w + "'");
                }
            }
            if (devices == null || devices.stream().anyMatch(String::isBlank)) {
                throw new CliException(where + "devices=<m1>,<m2>... is required");
            }
            out.add(new Entry(name, devices, ro, run));
        }
        if (out.isEmpty()) {
            throw new CliException(file + ": no ARRAY lines");
        }
        return out;
    }
}

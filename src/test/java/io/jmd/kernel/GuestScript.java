package io.jmd.kernel;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The guest shell (busybox sh, with kernel-vm's helpers {@code disk}, {@code md_wait},
 * {@code md_check}) the interop tests run in the VM. Each array gets one section
 * ({@code ##### CASE name} .. {@code ##### END name}) whose {@code @ key=value} lines the tests
 * assert on; {@code detail| } lines carry mdadm --detail, {@code dmesg| } the kernel's messages
 * about this array. Arrays run one after another, each on its own /dev/mdN, and one array's
 * failure does not stop the next.
 */
final class GuestScript {
    private final StringBuilder sh = new StringBuilder();
    private int nextMd;

    GuestScript() {
        sh.append("dmesg -c >/dev/null\n");
        sh.append("PATTERN=$(disk pattern 2>/dev/null)\n");
    }

    String text() {
        return sh.toString();
    }

    /** Serials of a case's members: {@code prefix + name + "-" + slot}. */
    static List<String> serials(String prefix, RaidCase c) {
        return java.util.stream.IntStream.range(0, c.devices()).mapToObj(i -> prefix + c.name() + "-" + i).toList();
    }

    /**
     * jmd made the array: assemble every member given, report, check, hash, stop. With
     * {@code readd}, the members in it were left out by jmd (stale): after the degraded checks they
     * are added back, and recovery, check and hash run again.
     */
    GuestScript assembleAndCheck(String section, RaidCase c, List<String> serials, List<String> readd) {
        String md = "md" + nextMd++;
        begin(section);
        line("set -- " + disks(serials));
        line("mdadm --assemble /dev/" + md + " \"$@\" 2>&1; rc=$?; echo \"@ assemble_rc=$rc\"");
        // mdadm refuses some degraded starts without --run; go on so the rest still reports.
        line("if [ $rc != 0 ]; then mdadm --stop /dev/" + md + " >/dev/null 2>&1; mdadm --assemble --run /dev/" + md
            + " \"$@\" 2>&1; echo \"@ assemble_run_rc=$?\"; fi");
        // raid0 and linear have no sync_action (md adds it only for personalities that resync).
        line("echo \"@ sync_action=$(cat /sys/block/" + md + "/md/sync_action 2>/dev/null || echo none)\"");
        line("echo \"@ array_state=$(cat /sys/block/" + md + "/md/array_state)\"");
        line("echo \"@ size=$(blockdev --getsize64 /dev/" + md + ")\"");
        line("mdadm --detail /dev/" + md + " 2>&1 | sed 's/^/detail| /'");
        if (c.redundant() && readd.isEmpty()) {
            line("echo \"@ mismatch_cnt=$(md_check " + md + ")\"");
        }
        line("echo \"@ sha256=$(sha256sum /dev/" + md + " | cut -d' ' -f1)\"");
        if (!readd.isEmpty()) {
            int i = 0;
            for (String s : readd) {
                line("mdadm /dev/" + md + " --add $(disk " + s + ") 2>&1; echo \"@ add_rc_" + i++ + "=$?\"");
            }
            line("md_wait " + md + "; echo \"@ recovery_rc=$?\"");
            line("echo \"@ recovered_mismatch_cnt=$(md_check " + md + ")\"");
            line("echo \"@ recovered_sha256=$(sha256sum /dev/" + md + " | cut -d' ' -f1)\"");
            line("mdadm --detail /dev/" + md + " 2>&1 | sed 's/^/detail2| /'");
        }
        stop(md);
        end(section);
        return this;
    }

    /**
     * The kernel makes the array: mdadm --create, the pattern copied in from the "pattern" disk,
     * resync waited for, a check scrub, the whole array hashed, stopped clean.
     */
    GuestScript createAndWrite(String section, RaidCase c, List<String> serials) {
        String md = "md" + nextMd++;
        begin(section);
        line("set -- " + disks(serials));
        line("mdadm --create /dev/" + md + " --run " + String.join(" ", c.createOptions())
            + " --homehost=kvmtest --name=" + c.name() + " \"$@\" 2>&1; echo \"@ create_rc=$?\"");
        line("size=$(blockdev --getsize64 /dev/" + md + "); echo \"@ size=$size\"");
        line("dd if=$PATTERN of=/dev/" + md + " bs=1M count=" + (ArrayPattern.HEAD_BYTES >> 20)
            + " conv=fsync 2>/tmp/dd.err; echo \"@ head_rc=$?\"");
        line("dd if=$PATTERN of=/dev/" + md + " bs=" + ArrayPattern.BLOCK_BYTES + " skip="
            + ArrayPattern.HEAD_BYTES / ArrayPattern.BLOCK_BYTES + " seek=$((size / " + ArrayPattern.BLOCK_BYTES + " - "
            + ArrayPattern.TAIL_BYTES / ArrayPattern.BLOCK_BYTES + ")) count=" + ArrayPattern.TAIL_BYTES / ArrayPattern.BLOCK_BYTES
            + " conv=fsync 2>/tmp/dd.err; echo \"@ tail_rc=$?\"");
        if (c.redundant()) {
            line("md_wait " + md + "; echo \"@ resync_rc=$?\"");
            line("echo \"@ mismatch_cnt=$(md_check " + md + ")\"");
        } else {
            line("echo \"@ resync_rc=0\"");
        }
        line("echo \"@ sha256=$(sha256sum /dev/" + md + " | cut -d' ' -f1)\"");
        line("mdadm --detail /dev/" + md + " 2>&1 | sed 's/^/detail| /'");
        stop(md);
        end(section);
        return this;
    }

    private void stop(String md) {
        line("mdadm --stop /dev/" + md + " 2>&1; echo \"@ stop_rc=$?\"");
        line("dmesg -c | sed 's/^/dmesg| /'");
    }

    private static String disks(List<String> serials) {
        StringBuilder b = new StringBuilder();
        for (String s : serials) {
            b.append(" $(disk ").append(s).append(')');
        }
        return b.toString().strip();
    }

    private void begin(String section) {
        line("echo '##### CASE " + section + "'");
        line("echo \"@ uptime_begin=$(cut -d' ' -f1 /proc/uptime)\"");
    }

    private void end(String section) {
        line("echo \"@ uptime_end=$(cut -d' ' -f1 /proc/uptime)\"");
        line("echo '##### END " + section + "'");
    }

    private void line(String s) {
        sh.append(s).append('\n');
    }

    /** mdadm --detail's "Key : Value" lines (jmd detail prints the same layout). */
    static Map<String, String> parseDetail(String detail) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String l : detail.split("\n")) {
            int colon = l.indexOf(" : ");
            if (colon > 0) {
                out.put(l.substring(0, colon).strip(), l.substring(colon + 3).strip());
            }
        }
        return out;
    }
}

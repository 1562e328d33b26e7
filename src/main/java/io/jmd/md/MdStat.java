package io.jmd.md;

import io.jmd.md.bitmap.WriteIntentBitmap;
import io.jmd.md.resync.SyncEngine;
import io.jmd.md.resync.SyncStatus;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * {@code jmd status}: running arrays in the layout of /proc/mdstat (md.c md_seq_show and
 * status_resync), member names being the members' file names:
 *
 * <pre>
 * Personalities : [raid1]
 * r1 : active raid1 c[2] b[1](F) a[0]
 *       16256 blocks super 1.2 [2/1] [U_]
 *       [====&gt;................]  recovery = 21.3% (3468/16256) finish=0.1min speed=34680K/sec
 *       bitmap: 1/1 pages [4KB], 64KB chunk
 *
 * unused devices: &lt;none&gt;
 * </pre>
 * One line more than the kernel's, when a check or repair has run: md's mismatch_cnt.
 */
public final class MdStat {
    private MdStat() {
    }

    public static String format(List<MdArray> arrays) {
        StringBuilder out = new StringBuilder("Personalities :");
        arrays.stream().map(a -> a.personality().levelName()).distinct().sorted()
            .forEach(l -> out.append(" [").append(l).append(']'));
        out.append(" \n");
        for (MdArray a : arrays) {
            array(out, a);
            out.append('\n');
        }
        out.append("unused devices: <none>\n");
        return out.toString();
    }

    static void array(StringBuilder out, MdArray a) {
        out.append(a.name()).append(" : active");
        if (a.isReadOnly()) {
            out.append(" (read-only)");
        }
        out.append(' ').append(a.personality().levelName());
        List<Member> members = new ArrayList<>(a.members());
        members.sort(Comparator.comparingInt(Member::devNumber).reversed());
        for (Member m : members) {
            out.append(' ').append(shortName(m.path())).append('[').append(m.devNumber()).append(']');
            if (m.writeMostly()) {
                out.append("(W)");
            }
            if (m.state() == MemberState.FAULTY) {
                out.append("(F)");
            } else if (m.state() == MemberState.SPARE) {
                out.append("(S)");
            }
        }
        out.append('\n');
        out.append("      ").append(a.sizeBytes() / 1024).append(" blocks super ").append(a.location().versionText())
            .append(' ').append(a.personality().status()).append('\n');
        Redundancy r = a.redundancy();
        SyncEngine e = r == null ? null : r.engine();
        if (e != null) {
            SyncStatus s = e.status();
            if (s != null) {
                out.append("      ").append(progress(s)).append('\n');
            } else if (!e.isIdle()) {
                out.append("      ").append("resync=PENDING").append('\n');
            }
            if (e.lastFinished() != null && e.lastFinished().action().compares()) {
                out.append("      mismatch_cnt: ").append(e.mismatchSectors()).append('\n');
            }
        }
        WriteIntentBitmap bm = r == null ? null : r.bitmap();
        if (bm != null) {
            out.append("      ").append(bm.mdstatLine()).append('\n');
        }
    }

    /** status_resync's line: the bar, the action, per-mille, KiB done/total, finish and speed. */
    public static String progress(SyncStatus s) {
        int perMille = s.perMille();
        int x = perMille / 50;
        StringBuilder b = new StringBuilder("[");
        b.append("=".repeat(x)).append('>').append(".".repeat(Math.max(0, 20 - x))).append("]  ");
        b.append(String.format(Locale.ROOT, "%s =%3d.%d%% (%d/%d)", s.action().mdstatName(), perMille / 10, perMille % 10,
            s.doneBytes() / 1024, s.totalBytes() / 1024));
        long eta = s.etaSeconds();
        if (eta >= 0) {
            b.append(String.format(Locale.ROOT, " finish=%d.%dmin", eta / 60, (eta % 60) / 6));
        }
        b.append(String.format(Locale.ROOT, " speed=%dK/sec", s.speedBytesPerSec() / 1024));
        return b.toString();
    }

    private static String shortName(String path) {
        if (path.contains("://")) {
            return path; // an NBD member (nbd://host/export): its URI is its name
        }
        Path p = Path.of(path).getFileName();
        return p == null ? path : p.toString();
    }
}

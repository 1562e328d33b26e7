package io.jmd.md;

import io.jmd.md.format.FeatureBits;
import io.jmd.md.format.MdTime;
import io.jmd.md.format.Superblock1;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * {@code jmd detail}: an array's state in the layout of {@code mdadm --detail}. Device lines show
 * the member's path where mdadm shows major/minor and /dev name.
 */
public final class Detail {
    private static final DateTimeFormatter CTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.ROOT);

    private Detail() {
    }

    public static String format(MdArray array, ZoneId zone) {
        Superblock1 sb = array.superblock();
        Personality p = array.personality();
        long arrayKib = array.sizeBytes() / 1024;
        long devKib = sb.sizeSectors() / 2;
        int active = 0;
        int failed = 0;
        int spare = 0;
        for (Member m : array.members()) {
            switch (m.state()) {
                case IN_SYNC -> active++;
                case FAULTY -> failed++;
                case SPARE, RECOVERING -> spare++;
            }
        }
        StringBuilder out = new StringBuilder();
        out.append(array.name()).append(":\n");
        line(out, "Version", array.location().versionText());
        line(out, "Creation Time", time(sb.ctime(), zone));
        line(out, "Raid Level", p.levelName());
        line(out, "Array Size", arrayKib + " (" + human(arrayKib * 1024) + ")");
        line(out, "Used Dev Size", devKib + " (" + human(devKib * 1024) + ")");
        line(out, "Raid Devices", Integer.toString(sb.raidDisks()));
        line(out, "Total Devices", Integer.toString(array.members().size()));
        line(out, "Persistence", "Superblock is persistent");
        out.append('\n');
        if (sb.hasFeature(FeatureBits.BITMAP_OFFSET)) {
            line(out, "Intent Bitmap", "Internal");
            out.append('\n');
        }
        line(out, "Update Time", time(sb.utime(), zone));
        line(out, "State", state(array));
        line(out, "Active Devices", Integer.toString(active));
        line(out, "Working Devices", Integer.toString(active + spare));
        line(out, "Failed Devices", Integer.toString(failed));
        line(out, "Spare Devices", Integer.toString(spare));
        out.append('\n');
        line(out, "Consistency Policy", sb.hasFeature(FeatureBits.BITMAP_OFFSET) ? "bitmap" : "resync");
        out.append('\n');
        io.jmd.md.resync.SyncStatus sync = array.redundancy() == null || array.redundancy().engine() == null ? null
            : array.redundancy().engine().status();
        if (sync != null) {
            line(out, sync.action().detailName() + " Status", sync.perMille() / 10 + "% complete");
            out.append('\n');
        }
        line(out, "Name", sb.setName().text());
        line(out, "UUID", sb.setUuid().format());
        line(out, "Events", Long.toString(array.events()));
        out.append('\n');
        devices(out, array, sb);
        return out.toString();
    }

    private static void devices(StringBuilder out, MdArray array, Superblock1 sb) {
        out.append("    Number   RaidDevice State\n");
        for (int slot = 0; slot < sb.raidDisks(); slot++) {
            Member holder = null;
            for (Member m : array.members()) {
                if (m.slot() == slot && m.state() != MemberState.FAULTY) {
                    holder = m;
                }
            }
            if (holder == null) {
                out.append(String.format(Locale.ROOT, "       -        %2d      removed%n", slot));
            } else {
                String st = holder.isInSync() ? "active sync" : "spare rebuilding";
                out.append(String.format(Locale.ROOT, "    %4d        %2d      %-17s %s%n", holder.devNumber(), slot, st, holder.path()));
            }
        }
        for (Member m : array.members()) {
            if (m.state() == MemberState.FAULTY) {
                out.append(String.format(Locale.ROOT, "    %4d         -      %-17s %s%n", m.devNumber(), "faulty", m.path()));
            } else if (m.state() == MemberState.SPARE) {
                out.append(String.format(Locale.ROOT, "    %4d         -      %-17s %s%n", m.devNumber(), "spare", m.path()));
            }
        }
    }

    static String state(MdArray array) {
        StringBuilder s = new StringBuilder(array.isClean() ? "clean" : "active");
        if (!array.personality().isOptimal()) {
            s.append(", degraded");
        }
        String action = array.redundancy() == null || array.redundancy().engine() == null ? "idle"
            : array.redundancy().engine().syncActionName();
        switch (action) {
            case "recover" -> s.append(", recovering");
            case "check" -> s.append(", checking");
            case "repair" -> s.append(", repairing");
            case "resync" -> s.append(", resyncing");
            default -> {
                if (array.needsResync()) {
                    s.append(", resyncing (PENDING)");
                }
            }
        }
        if (array.isReadOnly()) {
            s.append(" (read-only)");
        }
        return s.toString();
    }

    private static void line(StringBuilder out, String key, String value) {
        out.append(String.format(Locale.ROOT, "%18s : %s%n", key, value));
    }

    private static String time(MdTime t, ZoneId zone) {
        return CTIME.format(t.toInstant().atZone(zone));
    }

    static String human(long bytes) {
        double mib = bytes / 1048576.0;
        double mb = bytes / 1_000_000.0;
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB %.2f GB", mib / 1024, mb / 1000);
        }
        return String.format(Locale.ROOT, "%.2f MiB %.2f MB", mib, mb);
    }
}

package io.jmd.md.format;

import java.time.ZoneId;
import java.util.Optional;

/**
 * The line-by-line body of {@link ExamineFormatter}, in examine_super1's order. Numbers are
 * printed with mdadm's signedness: most fields are unsigned, level is compared unsigned (so linear,
 * -1, counts as "> 0" where mdadm tests that), offsets cast to int32 are signed.
 */
final class ExamineLines {
    private static final String UNKNOWN = "-unknown-";

    final StringBuilder text = new StringBuilder(1024);
    private final Superblock1 sb;
    private final int storedChecksum;
    private final ZoneId zone;
    /** Slots past raid_disks still shown while a reshape shrinks the array. */
    private final int deltaExtra;

    ExamineLines(Superblock1 sb, int storedChecksum, ZoneId zone) {
        this.sb = sb;
        this.storedChecksum = storedChecksum;
        this.zone = zone;
        boolean shrinking = sb.hasFeature(FeatureBits.RESHAPE_ACTIVE) && sb.deltaDisks() < 0;
        this.deltaExtra = shrinking ? -sb.deltaDisks() : 0;
    }

    private void line(String label, String value) {
        text.append(String.format("%15s : ", label)).append(value).append('\n');
    }

    private void blank() {
        text.append('\n');
    }

    /** mdadm tests "level > 0" on the unsigned field, which linear (-1) also passes. */
    private boolean levelAboveZeroUnsigned() {
        return sb.level() != 0;
    }

    void identity(Optional<String> homehost, Optional<BitmapSuperblock> bitmap) {
        line("Magic", String.format("%08x", Superblock1Layout.MAGIC));
        line("Version", SuperblockLocation.fromSuperOffsetAsMdadm(sb.superOffsetSectors()).versionText());
        line("Feature Map", "0x" + Integer.toHexString(sb.featureMap()));
        line("Array UUID", sb.setUuid().format());
        String local = homehost.filter(sb.setName()::isLocalTo).map(h -> "  (local to host " + h + ")").orElse("");
        line("Name", sb.setName().text() + local);
        bitmap.filter(b -> b.nodes() > 0).ifPresent(b -> line("Cluster Name", String.format("%-64s", b.clusterName())));
        line("Creation Time", MdadmText.ctime(sb.ctime(), zone));
        line("Raid Level", RaidLevel.fromCode(sb.level()).map(RaidLevel::mdadmName).orElse(UNKNOWN));
        line("Raid Devices", Integer.toString(sb.raidDisks()));
        blank();
    }

    void sizes(ExamineSpace space) {
        line("Avail Dev Size", sectorsWithHuman(sb.dataSizeSectors()));
        if (levelAboveZeroUnsigned()) {
            if (ArraySize.mdadmDataDisks(sb) != 0) {
                long arrayBytes = ArraySize.mdadmExamineBytes(sb);
                line("Array Size", Long.toUnsignedString(arrayBytes >> 10) + " KiB" + MdadmText.humanSize(arrayBytes));
            }
            if (sb.sizeSectors() != sb.dataSizeSectors()) {
                line("Used Dev Size", sectorsWithHuman(sb.sizeSectors()));
            }
        }
        if (sb.dataOffsetSectors() != 0) {
            line("Data Offset", Long.toUnsignedString(sb.dataOffsetSectors()) + " sectors");
        }
        boolean newOffset = sb.hasFeature(FeatureBits.NEW_OFFSET);
        if (sb.newOffsetSectors() != 0 && newOffset) {
            line("New Offset", Long.toUnsignedString(sb.dataOffsetSectors() + sb.newOffsetSectors()) + " sectors");
        }
        line("Super Offset", Long.toUnsignedString(sb.superOffsetSectors()) + " sectors");
        if (sb.hasFeature(FeatureBits.RECOVERY_OFFSET)) {
            line("Recovery Offset", Long.toUnsignedString(sb.recoveryOffsetSectors()) + " sectors");
        }
        if (space.isShown() && !newOffset) {
            String after = space.isTruncated()
                    ? "after=-" + Long.toUnsignedString(~space.afterSectors()) + " sectors DEVICE TOO SMALL"
                    : "after=" + space.afterSectors() + " sectors";
            line("Unused Space", "before=" + Long.toUnsignedString(space.beforeSectors()) + " sectors, " + after);
        }
    }

    private static String sectorsWithHuman(long sectors) {
        return Long.toUnsignedString(sectors) + " sectors" + MdadmText.humanSize(sectors << 9);
    }

    void deviceState(ExamineSpace space) {
        line("State", (sb.isClean() ? "clean" : "active") + (space.isTruncated() ? " TRUNCATED DEVICE" : ""));
        line("Device UUID", sb.deviceUuid().format());
        blank();
        if (sb.hasFeature(FeatureBits.BITMAP_OFFSET)) {
            line("Internal Bitmap", sb.bitmapOffsetSectors() + " sectors from superblock");
        } else if (sb.hasFeature(FeatureBits.PPL) || sb.hasFeature(FeatureBits.MULTIPLE_PPLS)) {
            line("PPL", sb.pplSizeSectors() + " sectors at offset " + (sb.bitmapOffsetSectors() & 0xffff)
                    + " sectors from superblock");
        }
        if (sb.hasFeature(FeatureBits.RESHAPE_ACTIVE)) {
            reshape();
        }
    }

    private void reshape() {
        long position = sb.reshapePositionSectors();
        line("Reshape pos'n", Long.toUnsignedString(position >>> 1) + MdadmText.humanSize(position << 9));
        if (sb.deltaDisks() != 0) {
            line("Delta Devices", sb.deltaDisks() + " (" + (sb.raidDisks() - sb.deltaDisks()) + "->" + sb.raidDisks()
                    + ")");
        }
        if (sb.newLevel() != sb.level()) {
            line("New Level", RaidLevel.fromCode(sb.newLevel()).map(RaidLevel::mdadmName).orElse(UNKNOWN));
        }
        if (sb.newLayout() != sb.layout()) {
            layoutLine("New Layout", sb.newLayout());
        }
        if (sb.newChunkSectors() != sb.chunkSectors()) {
            line("New Chunksize", Integer.toUnsignedLong(sb.newChunkSectors()) / 2 + "K");
        }
        blank();
    }

    /** A "Layout"/"New Layout" line for raid5, raid6 and raid10; nothing for other levels. */
    private void layoutLine(String label, int layout) {
        switch (sb.level()) {
            case 5 -> line(label, Raid5Algorithm.fromLayout(layout).filter(Raid5Algorithm::validForRaid5)
                    .map(Raid5Algorithm::mdadmName).orElse(UNKNOWN));
            case 6 -> line(label, Raid5Algorithm.fromLayout(layout).map(Raid5Algorithm::mdadmName).orElse(UNKNOWN));
            // print_r10_layout brings its own leading space, right after the ':'.
            case 10 -> text.append(String.format("%15s :", label)).append(raid10Name(layout)).append('\n');
            default -> { }
        }
    }

    private static String raid10Name(int layout) {
        int near = layout & 0xff;
        int far = (layout >>> 8) & 0xff;
        if (near == 0 || far == 0) {
            return UNKNOWN;
        }
        return new Raid10Layout(near, far, (layout & 0x10000) != 0, 0).mdadmName();
    }

    void extras() {
        if (sb.devFlags() != 0) {
            String flags = ((sb.devFlags() & Superblock1Layout.DEVFLAG_WRITE_MOSTLY) != 0 ? " write-mostly" : "")
                    + ((sb.devFlags() & Superblock1Layout.DEVFLAG_FAIL_FAST) != 0 ? " failfast" : "");
            text.append("          Flags :").append(flags).append('\n');
        }
        line("Update Time", MdadmText.ctime(sb.utime(), zone));
        if (sb.bblogSizeSectors() != 0 && sb.bblogOffsetSectors() != 0) {
            line("Bad Block Log", sb.bblogSizeSectors() * 512 / 8 + " entries available at offset "
                    + sb.bblogOffsetSectors() + " sectors"
                    + (sb.hasFeature(FeatureBits.BAD_BLOCKS) ? " - bad blocks present." : ""));
        }
        int expected = sb.checksum();
        String verdict = expected == storedChecksum ? " - correct" : " - expected " + Integer.toHexString(expected);
        line("Checksum", Integer.toHexString(storedChecksum) + verdict);
        line("Events", Long.toUnsignedString(sb.events()));
        blank();
    }

    void layout() {
        if (sb.level() == 0 && sb.hasFeature(FeatureBits.RAID0_LAYOUT)) {
            line("Layout", raid0LayoutName(sb.layout()));
        }
        layoutLine("Layout", sb.layout());
        switch (sb.level()) {
            case 0, 4, 5, 6, 10 -> line("Chunk Size", Integer.toUnsignedLong(sb.chunkSectors()) / 2 + "K");
            case -1 -> line("Rounding", Integer.toUnsignedLong(sb.chunkSectors()) / 2 + "K");
            default -> { }
        }
        blank();
    }

    private static String raid0LayoutName(int layout) {
        return switch (layout) {
            case 1 -> "original";
            case 2 -> "alternate";
            case 0 -> "dangerous";
            default -> UNKNOWN;
        };
    }

    void roles() {
        int role = sb.role();
        String description;
        if (role >= DevRole.FAULTY) {
            description = "spare";
        } else if (role == DevRole.JOURNAL) {
            description = "Journal";
        } else if (sb.hasFeature(FeatureBits.REPLACEMENT)) {
            description = "Replacement device " + role;
        } else {
            description = "Active device " + role;
        }
        text.append("   Device Role : ").append(description).append('\n');
        arrayState();
    }

    private void arrayState() {
        StringBuilder state = new StringBuilder();
        boolean inconsistent = false;
        int slots = sb.raidDisks() + deltaExtra;
        for (int slot = 0; slot < slots; slot++) {
            int count = sb.devRoles().count(slot);
            if (count == 2 && levelAboveZeroUnsigned()) {
                state.append('R');
            } else if (count == 1) {
                state.append('A');
            } else if (count == 0) {
                state.append('.');
            } else {
                state.append('?');
                inconsistent = true;
            }
        }
        text.append("   Array State : ").append(state)
                .append(" ('A' == active, '.' == missing, 'R' == replacing)\n");
        for (int i = 0; i < sb.maxDev(); i++) {
            int role = sb.devRoles().role(i);
            inconsistent |= role <= DevRole.MAX && role > slots;
        }
        if (inconsistent) {
            inconsistencyWarning();
        }
    }

    private void inconsistencyWarning() {
        text.append("WARNING Array state is inconsistent - each number should appear only once\n");
        for (int i = 0; i < sb.maxDev(); i++) {
            int role = sb.devRoles().role(i);
            text.append(role >= DevRole.FAULTY ? " " + i + ":-" : " " + i + ":" + role);
        }
        text.append('\n');
    }
}

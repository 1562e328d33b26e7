package io.jmd.cli;

import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.Raid10Layout;
import io.jmd.md.format.Raid5Algorithm;
import io.jmd.md.format.RaidLevel;

import java.util.Locale;

/**
 * --level, --layout and --chunk as mdadm reads them (mdadm.c, maps.c pers/r5layout/r6layout/
 * r0layout, util.c parse_layout_10), checked once here, at the edge.
 */
final class LevelOptions {
    private LevelOptions() {
    }

    /** mdadm's level names: 0 raid0 stripe, 1 raid1 mirror, 4 raid4, 5 raid5, 6 raid6, 10 raid10, linear. */
    static RaidLevel level(String text) throws CliException {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "linear", "-1" -> RaidLevel.LINEAR;
            case "0", "raid0", "stripe" -> RaidLevel.RAID0;
            case "1", "raid1", "mirror" -> RaidLevel.RAID1;
            case "4", "raid4" -> RaidLevel.RAID4;
            case "5", "raid5" -> RaidLevel.RAID5;
            case "6", "raid6" -> RaidLevel.RAID6;
            case "10", "raid10" -> RaidLevel.RAID10;
            default -> throw new CliException("--level=" + text + ": not a RAID level (linear, 0, 1, 4, 5, 6, 10;"
                + " or raid0, stripe, raid1, mirror, raid4, raid5, raid6, raid10)", 2);
        };
    }

    /** The layout word for {@code level} named {@code text} (null: mdadm's default). */
    static int layout(RaidLevel level, String text) throws CliException {
        if (text == null) {
            return CreateOptions.defaults(level, Math.max(level.minRaidDisks(), 2)).layout();
        }
        String t = text.toLowerCase(Locale.ROOT);
        return switch (level) {
            case RAID5 -> raid5Layout(t, text, false);
            case RAID6 -> raid5Layout(t, text, true);
            case RAID4 -> switch (t) {
                case "parity-last", "default" -> 0; // what mdadm writes for raid4; the kernel ignores it
                default -> throw new CliException("--layout=" + text + ": raid4 keeps parity on the last device (parity-last)", 2);
            };
            case RAID10 -> raid10Layout(t, text);
            case RAID0 -> switch (t) {
                case "original", "1", "default" -> CreateOptions.RAID0_ORIGINAL_LAYOUT;
                case "alternate", "2" -> 2;
                default -> throw new CliException("--layout=" + text + ": raid0 layouts are original and alternate", 2);
            };
            default -> throw new CliException("--layout is not meaningful for " + level.mdadmName(), 2);
        };
    }

    private static int raid5Layout(String t, String text, boolean raid6) throws CliException {
        Raid5Algorithm a = switch (t) {
            case "left-asymmetric", "la" -> Raid5Algorithm.LEFT_ASYMMETRIC;
            case "right-asymmetric", "ra" -> Raid5Algorithm.RIGHT_ASYMMETRIC;
            case "left-symmetric", "ls", "default" -> Raid5Algorithm.LEFT_SYMMETRIC;
            case "right-symmetric", "rs" -> Raid5Algorithm.RIGHT_SYMMETRIC;
            case "parity-first" -> Raid5Algorithm.PARITY_0;
            case "parity-last" -> Raid5Algorithm.PARITY_N;
            case "ddf-zero-restart" -> Raid5Algorithm.ROTATING_ZERO_RESTART;
            case "ddf-n-restart" -> Raid5Algorithm.ROTATING_N_RESTART;
            case "ddf-n-continue" -> Raid5Algorithm.ROTATING_N_CONTINUE;
            case "left-asymmetric-6" -> Raid5Algorithm.LEFT_ASYMMETRIC_6;
            case "right-asymmetric-6" -> Raid5Algorithm.RIGHT_ASYMMETRIC_6;
            case "left-symmetric-6" -> Raid5Algorithm.LEFT_SYMMETRIC_6;
            case "right-symmetric-6" -> Raid5Algorithm.RIGHT_SYMMETRIC_6;
            case "parity-first-6" -> Raid5Algorithm.PARITY_0_6;
            default -> null;
        };
        if (a == null || (!raid6 && !a.validForRaid5())) {
            throw new CliException("--layout=" + text + ": not a " + (raid6 ? "raid6" : "raid5") + " layout (left-asymmetric,"
                + " right-asymmetric, left-symmetric, right-symmetric, la, ra, ls, rs, parity-first, parity-last"
                + (raid6 ? ", ddf-zero-restart, ddf-N-restart, ddf-N-continue, left-asymmetric-6, right-asymmetric-6,"
                    + " left-symmetric-6, right-symmetric-6, parity-first-6" : "") + ")", 2);
        }
        return a.layout();
    }

    /** parse_layout_10: n, f or o followed by the number of copies (1..200). */
    private static int raid10Layout(String t, String text) throws CliException {
        if (t.equals("default")) {
            return Raid10Layout.DEFAULT_WORD;
        }
        int copies;
        try {
            copies = t.length() < 2 ? -1 : Integer.parseInt(t.substring(1));
        } catch (NumberFormatException e) {
            copies = -1;
        }
        if (copies < 1 || copies > 200) {
            throw new CliException("--layout=" + text + ": raid10 layouts are nN, fN or oN (N copies, e.g. n2, f2, o3)", 2);
        }
        return switch (t.charAt(0)) {
            case 'n' -> Raid10Layout.near(copies).word();
            case 'f' -> Raid10Layout.far(copies).word();
            case 'o' -> Raid10Layout.offset(copies).word();
            default -> throw new CliException("--layout=" + text + ": raid10 layouts are nN, fN or oN (N copies, e.g. n2, f2, o3)", 2);
        };
    }
}

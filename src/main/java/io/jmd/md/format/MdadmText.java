package io.jmd.md.format;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** mdadm's small text helpers (util.c human_size, ctime(3) as printed with "%.24s"). */
final class MdadmText {
    private MdadmText() {}

    private static final long KIB = 1024;
    private static final long MIB = KIB * KIB;
    private static final long GIB = MIB * KIB;
    private static final long TIB = GIB * KIB;

    /** ctime(3) without its newline: "Sat Nov 21 05:42:27 2026" (day of month space-padded). */
    private static final DateTimeFormatter CTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy",
            Locale.ROOT);

    /**
     * human_size: nothing below 5000 KiB; MiB/MB below 2 GiB; GiB/GB below 2 TiB; TiB/TB above
     * (checked against mdadm 4.2), each to two decimals rounded half up: " (15.00 MiB 15.73 MB)".
     */
    static String humanSize(long bytes) {
        if (bytes < 5000 * KIB) {
            return "";
        }
        if (bytes < 2 * GIB) {
            return pair(bytes, MIB, 1_000_000L, "MiB", "MB");
        }
        if (bytes < 2 * TIB) {
            return pair(bytes, GIB, 1_000_000_000L, "GiB", "GB");
        }
        return pair(bytes, TIB, 1_000_000_000_000L, "TiB", "TB");
    }

    /** Hundredths of the binary and of the decimal unit, each rounded half up the way mdadm does. */
    private static String pair(long bytes, long binaryUnit, long decimalUnit, String binaryName, String decimalName) {
        long centiBinary = (bytes * 200 / binaryUnit + 1) / 2;
        long centiDecimal = (bytes / (decimalUnit / 200) + 1) / 2;
        return " (" + centi(centiBinary) + " " + binaryName + " " + centi(centiDecimal) + " " + decimalName + ")";
    }

    private static String centi(long hundredths) {
        return String.format(Locale.ROOT, "%d.%02d", hundredths / 100, hundredths % 100);
    }

    static String ctime(MdTime time, ZoneId zone) {
        return CTIME.format(Instant.ofEpochSecond(time.seconds()).atZone(zone));
    }
}

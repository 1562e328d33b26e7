package io.jmd.md.format;

import java.time.ZoneId;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Renders one member's metadata in the exact layout of {@code mdadm --examine} (mdadm 4.2,
 * super1.c examine_super1), so jmd's output can be diffed against mdadm's.
 *
 * <p>Times are printed like ctime(3) in {@code zone}; mdadm uses the process's TZ, so
 * {@link #zoneFromEnvironment} mirrors that with UTC when TZ is unset. {@code homehost}, when
 * present, adds mdadm's "(local to host X)" to the Name line.
 *
 * <p>Like mdadm, a superblock whose bitmap feature is on but whose bitmap superblock was not found
 * (absent or invalid) is shown with the feature cleared, so the checksum line reads "expected"
 * (mdadm's load_super1 clears the bit before examine recomputes the checksum).
 */
public final class ExamineFormatter {
    private final ZoneId zone;
    private final Optional<String> homehost;

    public ExamineFormatter(ZoneId zone, Optional<String> homehost) {
        this.zone = Objects.requireNonNull(zone, "zone");
        this.homehost = Objects.requireNonNull(homehost, "homehost");
    }

    /** UTC, no homehost: output independent of the machine it runs on. */
    public static ExamineFormatter utc() {
        return new ExamineFormatter(ZoneId.of("UTC"), Optional.empty());
    }

    /** The zone glibc would use for TZ (a zone id, optionally prefixed by ':'), UTC when unset or unknown. */
    public static ZoneId zoneFromEnvironment(Map<String, String> environment) {
        String tz = environment.get("TZ");
        if (tz == null || tz.isBlank()) {
            return ZoneId.of("UTC");
        }
        try {
            return ZoneId.of(tz.startsWith(":") ? tz.substring(1) : tz);
        } catch (java.time.DateTimeException unknownZone) {
            return ZoneId.of("UTC");
        }
    }

    /**
     * The full text for one member, ending with a newline: {@code deviceName + ":"} then mdadm's
     * lines. {@code deviceBytes} is the member's size; {@code bitmap} its bitmap superblock if
     * one was read and valid.
     */
    public String format(String deviceName, Superblock1 sb, long deviceBytes, Optional<BitmapSuperblock> bitmap) {
        boolean bitmapLost = sb.hasFeature(FeatureBits.BITMAP_OFFSET) && bitmap.isEmpty();
        Superblock1 shown = bitmapLost ? sb.toBuilder().removeFeature(FeatureBits.BITMAP_OFFSET).build() : sb;
        Optional<BitmapSuperblock> shownBitmap = shown.hasFeature(FeatureBits.BITMAP_OFFSET) ? bitmap : Optional.empty();
        ExamineSpace space = ExamineSpace.of(shown, deviceBytes / Superblock1Layout.SECTOR_BYTES, shownBitmap);
        ExamineLines lines = new ExamineLines(shown, sb.checksum(), zone);
        lines.text.append(deviceName).append(":\n");
        lines.identity(homehost, shownBitmap);
        lines.sizes(space);
        lines.deviceState(space);
        lines.extras();
        lines.layout();
        lines.roles();
        return lines.text.toString();
    }
}

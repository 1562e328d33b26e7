package io.jmd.cli;

import picocli.CommandLine;

import java.util.Locale;

/**
 * Sizes as mdadm reads them: a number with an optional K, M, G or T suffix (powers of 1024);
 * a bare number is in KiB for --size and --chunk, as in mdadm, and in bytes where a command says so.
 */
final class Sizes {
    private Sizes() {
    }

    /** Parses {@code text} to bytes; {@code bareUnitBytes} is the unit of a number without suffix. */
    static long parse(String text, long bareUnitBytes, String option) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        if (t.isEmpty()) {
            throw new CommandLine.TypeConversionException(option + ": empty size");
        }
        long unit = bareUnitBytes;
        char last = t.charAt(t.length() - 1);
        int shift = switch (last) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            case 'T' -> 40;
            default -> -1;
        };
        String digits = t;
        if (shift >= 0) {
            unit = 1L << shift;
            digits = t.substring(0, t.length() - 1);
        } else if (last == 'B') {
            unit = 1;
            digits = t.substring(0, t.length() - 1);
        }
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException(option + ": '" + text + "' is not a size (examples: 512K, 64M, 10G)");
        }
        if (n <= 0) {
            throw new CommandLine.TypeConversionException(option + ": size must be positive, got '" + text + "'");
        }
        if (n > Long.MAX_VALUE / unit) {
            throw new CommandLine.TypeConversionException(option + ": '" + text + "' is too large");
        }
        return n * unit;
    }

    /** "15.00 MiB 15.73 MB" as mdadm prints sizes. */
    static String human(long bytes) {
        return String.format(Locale.ROOT, "%s %s", binary(bytes), decimal(bytes));
    }

    private static String binary(long bytes) {
        String[] u = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes / 1024.0;
        int i = 0;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, u[i]);
    }

    private static String decimal(long bytes) {
        String[] u = {"KB", "MB", "GB", "TB", "PB"};
        double v = bytes / 1000.0;
        int i = 0;
        while (v >= 1000 && i < u.length - 1) {
            v /= 1000;
            i++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, u[i]);
    }
}

package io.jmd.cli;

/** An operating error to report as one line (exit code 1, or 2 for wrong usage found late). */
final class CliException extends Exception {
    private final int exitCode;

    CliException(String message) {
        this(message, 1);
    }

    CliException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}

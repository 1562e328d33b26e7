package io.jmd.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** This host's name, as mdadm takes it for the default homehost (no DNS look-up). */
final class HostName {
    private HostName() {
    }

    static Optional<String> get() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            try {
                h = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
            } catch (IOException e) {
                return Optional.empty();
            }
        }
        int dot = h.indexOf('.');
        h = dot > 0 ? h.substring(0, dot) : h;
        return h.isBlank() ? Optional.empty() : Optional.of(h);
    }
}

package io.jmd.control;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where control sockets live by default: {@code $XDG_RUNTIME_DIR/jmd/NAME.ctl}, or
 * {@code /tmp/jmd-USER/NAME.ctl} without a runtime directory; NAME is the first served array's
 * export name. The directory is made private (0700): the socket controls the arrays.
 */
public final class ControlPaths {
    public static final String SUFFIX = ".ctl";

    private ControlPaths() {
    }

    public static Path directory(Map<String, String> environment) {
        String runtime = environment.get("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isBlank()) {
            return Path.of(runtime, "jmd");
        }
        return Path.of(System.getProperty("java.io.tmpdir", "/tmp"), "jmd-" + System.getProperty("user.name", "user"));
    }

    public static Path forArray(Map<String, String> environment, String name) {
        return directory(environment).resolve(name + SUFFIX);
    }

    /** Creates the default directory, private to this user. */
    public static void prepare(Path socket) throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            try {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: nothing to tighten
            }
        }
    }

    /**
     * The socket a command without --control talks to: the array's own if named, else the only
     * socket in the default directory. Null when there is none or more than one.
     */
    public static Path find(Map<String, String> environment, String array) throws IOException {
        Path dir = directory(environment);
        if (array != null && !array.equals("-")) {
            Path p = forArray(environment, array);
            if (Files.exists(p)) {
                return p;
            }
        }
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> sockets = s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).toList();
            return sockets.size() == 1 ? sockets.get(0) : null;
        }
    }
}

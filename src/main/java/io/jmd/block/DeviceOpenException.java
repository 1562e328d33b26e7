package io.jmd.block;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A member could not be opened: it is missing, of the wrong type, not permitted, locked or in use.
 * The message names the path and says what to do; it is meant for the operator, as is.
 */
public final class DeviceOpenException extends IOException {
    private final Path path;

    public DeviceOpenException(Path path, String problem) {
        super(path + ": " + problem);
        this.path = path;
    }

    public DeviceOpenException(Path path, String problem, Throwable cause) {
        super(path + ": " + problem, cause);
        this.path = path;
    }

    public Path path() {
        return path;
    }
}

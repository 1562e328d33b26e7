package io.jmd.block;

import java.io.IOException;

/**
 * Turns a member name (a path, or an {@code nbd://} / {@code nbd+unix://} URI) into a
 * {@link BlockDevice}: the injected storage. Production opens files and block devices, and NBD
 * exports with io.jmd.nbd.client; tests and the simulator open memory or fault-injected devices.
 */
@FunctionalInterface
public interface DeviceOpener {
    /** Opens {@code name}; the exception message names it and says what went wrong. */
    BlockDevice open(String name, boolean readOnly) throws IOException;
}

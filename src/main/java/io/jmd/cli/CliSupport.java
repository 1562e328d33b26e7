package io.jmd.cli;

import io.jmd.Env;
import io.jmd.block.DeviceOpener;
import io.jmd.block.FileBlockDevice;
import io.jmd.nbd.client.NbdBlockDevice;
import io.jmd.nbd.client.NbdUri;

import java.nio.file.Path;

/** What every command needs: the production environment and the member opener. */
final class CliSupport {
    /** I/O memory budget unless JMD_MEMORY says otherwise (e.g. JMD_MEMORY=256M). */
    static final long MEMORY_DEFAULT_BYTES = 1L << 30;

    private CliSupport() {
    }

    static Env env() {
        String m = System.getenv("JMD_MEMORY");
        long bytes = m == null || m.isBlank() ? MEMORY_DEFAULT_BYTES : Sizes.parse(m, 1, "JMD_MEMORY");
        return Env.production(bytes);
    }

    /**
     * Members named {@code nbd://...} or {@code nbd+unix://...} are remote NBD exports (jmd's NBD
     * client); every other name is a file or block device.
     */
    static DeviceOpener opener(Env env) {
        return (name, readOnly) -> isNbd(name) ? NbdBlockDevice.open(env, name, readOnly)
            : FileBlockDevice.open(env, FileBlockDevice.Options.of(Path.of(name)).readOnly(readOnly));
    }

    /** Whether a member name is an NBD URI rather than a path. */
    static boolean isNbd(String member) {
        return NbdUri.looksLikeNbdUri(member);
    }
}

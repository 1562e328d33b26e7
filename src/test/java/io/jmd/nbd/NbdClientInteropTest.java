package io.jmd.nbd;

import io.jmd.testutil.ExternalTool;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Linux nbd-client (the kernel driver's user-space half): it lists exports and completes the
 * handshake against us. Attaching /dev/nbdX needs the nbd kernel module, which test machines may
 * lack, so the test stops at the handshake: nbd-client prints the size before it asks the kernel.
 */
@Tag("interop")
class NbdClientInteropTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);
    private ServerFixture fx;

    @BeforeEach
    void start() throws IOException {
        fx = ServerFixture.start(jmd.env());
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    @Test
    void listsExportsWithDescriptions() {
        String port = String.valueOf(fx.server.tcpPort());
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(30), "nbd-client", "-l", "127.0.0.1", port).assertSuccess();
        assertTrue(r.stdout().contains("disk: a test disk"), r.stdout());
        assertTrue(r.stdout().contains("ro"), r.stdout());
    }

    @Test
    void handshakeReachesTheExportSize() {
        String port = String.valueOf(fx.server.tcpPort());
        // A device path that names no nbd device: nbd-client negotiates, prints the size, then
        // refuses the target, so no machine ever gets a device attached by this test.
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(30), "nbd-client", "-N", "disk", "127.0.0.1", port,
            "/dev/jmd-test-no-such-nbd");
        String all = r.stdout() + r.stderr();
        assertTrue(all.contains("size = " + (ServerFixture.SIZE_BYTES >> 20) + "MB"), all);
    }
}

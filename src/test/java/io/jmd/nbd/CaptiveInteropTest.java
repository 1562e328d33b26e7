package io.jmd.nbd;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clients that start the server themselves: nbdinfo's {@code [ CMD ]} (systemd socket
 * activation, LISTEN_FDS on descriptor 3) and nbd_connect_command (stdin/stdout). The child is
 * {@link ServeMain}, which uses the same builder calls {@code jmd serve} will.
 */
@Tag("interop")
class CaptiveInteropTest {
    @Test
    void nbdinfoLaunchesTheServerBySocketActivation() {
        List<String> args = new ArrayList<>(List.of("--json", "--"));
        args.add("[");
        args.addAll(Clients.serveCommand(String.valueOf(32L << 20), "activation"));
        args.add("]");
        String json = Clients.run("nbdinfo", args.toArray(String[]::new)).stdout();
        assertTrue(json.contains("\"export-size\": " + (32L << 20)), json);
        assertTrue(json.contains("\"can_multi_conn\": true"), json);
    }

    @Test
    void connectCommandTalksOverStdio() {
        String argv = String.join(", ", Clients.serveCommand(String.valueOf(1L << 20), "stdio").stream()
            .map(a -> "'" + a + "'").toList());
        String script = String.join("\n",
            "h.connect_command([" + argv + "])",
            "print(h.get_size())",
            "h.pwrite(b'j' * 4096, 8192, nbd.CMD_FLAG_FUA)",
            "assert h.pread(4096, 8192) == b'j' * 4096",
            "h.flush()",
            "h.shutdown()",
            "");
        String out = Clients.nbdsh("-c", script).stdout();
        assertEquals(String.valueOf(1L << 20), out.strip());
    }
}

package io.jmd.nbd;

import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** nbdinfo (libnbd) sees the exports, their sizes, every capability, the list and the map. */
@Tag("interop")
class NbdinfoInteropTest {
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

    private static void has(String json, String field) {
        assertTrue(json.contains(field), "nbdinfo --json lacks " + field + ":\n" + json);
    }

    @Test
    void jsonShowsSizeAndEveryCapability() {
        String json = Clients.run("nbdinfo", "--json", fx.uri("disk")).stdout();
        has(json, "\"export-size\": " + ServerFixture.SIZE_BYTES);
        has(json, "\"structured\": true");
        has(json, "\"base:allocation\"");
        has(json, "\"description\": \"a test disk\"");
        for (String cap : new String[] {"can_cache", "can_df", "can_fast_zero", "can_flush", "can_fua",
            "can_multi_conn", "can_trim", "can_zero"}) {
            has(json, "\"" + cap + "\": true");
        }
        has(json, "\"is_read_only\": false");
        has(json, "\"block_size_minimum\": 512");
        has(json, "\"block_size_maximum\": 33554432");

        String ro = Clients.run("nbdinfo", "--json", fx.uri("ro")).stdout();
        has(ro, "\"is_read_only\": true");
        has(ro, "\"export-size\": " + ServerFixture.RO_SIZE_BYTES);
        assertEquals(ServerFixture.SIZE_BYTES + "\n", Clients.run("nbdinfo", "--size", fx.uri("")).stdout(),
            "the empty name is the default (first) export");
    }

    @Test
    void listShowsEveryExport() {
        String out = Clients.run("nbdinfo", "--list", "--json", fx.uri("")).stdout();
        has(out, "\"export-name\": \"disk\"");
        has(out, "\"export-name\": \"ro\"");
        has(out, "\"export-size\": " + ServerFixture.RO_SIZE_BYTES);
    }

    @Test
    void mapShowsHolesOfASparseExport() throws IOException {
        byte[] data = new byte[1 << 20];
        new Random(7).nextBytes(data);
        try (RawClient c = fx.client("disk", false, false)) {
            c.write(1, 2L << 20, data, 0);
            assertEquals(0, c.response().error());
        }
        String map = Clients.run("nbdinfo", "--map", fx.uri("disk")).stdout();
        String[] lines = map.strip().split("\n");
        assertEquals(3, lines.length, map);
        assertTrue(lines[0].matches("\\s*0\\s+2097152\\s+3\\s+hole,zero"), map);
        assertTrue(lines[1].matches("\\s*2097152\\s+1048576\\s+0\\s+data"), map);
        assertTrue(lines[2].matches("\\s*3145728\\s+" + (ServerFixture.SIZE_BYTES - (3 << 20)) + "\\s+3\\s+hole,zero"), map);
    }

    @Test
    void unixSocketServesTheSameExports(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path sock = dir.resolve("nbd.sock");
        NbdServer s = NbdServer.builder(jmd.env()).export("disk", null, fx.device, false).listenUnix(sock).start();
        try {
            String out = Clients.run("nbdinfo", "--size", "nbd+unix:///disk?socket=" + sock).stdout();
            assertEquals(ServerFixture.SIZE_BYTES + "\n", out);
        } finally {
            s.close();
        }
        assertTrue(!java.nio.file.Files.exists(sock), "the socket file is removed on close");
    }
}

package io.jmd.nbd;

import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** fio's nbd engine: several jobs, one libnbd connection each (multi-conn), verified with crc32c. */
@Tag("interop")
class FioInteropTest {
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

    private void fio(String rw, String bs) {
        String out = Clients.run("fio", "--name=jmd-" + rw, "--ioengine=nbd", "--uri=" + fx.uri("disk"),
            "--rw=" + rw, "--bs=" + bs, "--size=8M", "--numjobs=4", "--offset_increment=8M", "--iodepth=16",
            "--verify=crc32c", "--verify_state_save=0", "--do_verify=1", "--verify_fatal=1", "--group_reporting").stdout();
        assertTrue(out.contains("err= 0"), out);
        assertTrue(!out.contains("verify: bad"), out);
    }

    @Test
    void randomWritesVerify() {
        fio("randwrite", "4k");
    }

    @Test
    void sequentialWritesVerify() {
        fio("write", "128k");
    }
}

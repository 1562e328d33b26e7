package io.jmd.work;

import io.jmd.mem.Buffer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The @RegisterExtension style: a chosen budget, the Env from the field. */
class EnvRegisteredExtensionTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(64 * 1024);

    @Test
    void givesTheChosenBudget() {
        assertEquals(64 * 1024, jmd.env().budget().totalBytes());
        Buffer all = jmd.env().buffers().allocate(64 * 1024);
        assertNull(jmd.env().buffers().tryAllocate(4096), "the budget is the one asked for");
        all.release();
    }
}

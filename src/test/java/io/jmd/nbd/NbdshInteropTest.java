package io.jmd.nbd;

import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libnbd with its client-side checks off ({@code set_strict_mode(0)}) sends what a careless or
 * hostile client would; each request gets the error proto.md names, and the connection goes on.
 */
@Tag("interop")
class NbdshInteropTest {
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

    private static final String EXPECT = String.join("\n",
        "import errno",
        "def expect(name, err, f):",
        "    try:",
        "        f()",
        "    except nbd.Error as e:",
        "        assert e.errnum == err, '%s: got %s (%s), want %s' % (name, errno.errorcode.get(e.errnum), e.string, errno.errorcode[err])",
        "        print('ok', name)",
        "        return",
        "    raise AssertionError(name + ' succeeded')",
        "h.set_strict_mode(0)",
        "size = h.get_size()",
        "");

    @Test
    void malformedRequestsGetTheSpecsErrors() {
        String script = EXPECT + String.join("\n",
            "expect('read past end', errno.EINVAL, lambda: h.pread(1024, size - 512))",
            "expect('write past end', errno.ENOSPC, lambda: h.pwrite(b'x' * 1024, size - 512))",
            "expect('zero past end', errno.ENOSPC, lambda: h.zero(1024, size - 512))",
            "expect('trim past end', errno.EINVAL, lambda: h.trim(1024, size))",
            "expect('misaligned read', errno.EINVAL, lambda: h.pread(100, 1))",
            "expect('misaligned write', errno.EINVAL, lambda: h.pwrite(b'x' * 512, 7))",
            "expect('unknown flag', errno.EINVAL, lambda: h.pread(512, 0, 0x40))",
            "expect('flag of another command', errno.EINVAL, lambda: h.pread(512, 0, nbd.CMD_FLAG_NO_HOLE))",
            "assert h.pread(512, 0) == bytearray(512)",
            "h.shutdown()",
            "");
        String out = Clients.nbdsh("-u", fx.uri("disk"), "-c", script).stdout();
        assertTrue(out.contains("ok flag of another command"), out);
    }

    @Test
    void writesToAReadOnlyExportGetEperm() {
        String script = EXPECT + String.join("\n",
            "assert h.is_read_only()",
            "expect('write', errno.EPERM, lambda: h.pwrite(b'x' * 512, 0))",
            "expect('trim', errno.EPERM, lambda: h.trim(512, 0))",
            "expect('zero', errno.EPERM, lambda: h.zero(512, 0))",
            "h.flush()",
            "h.shutdown()",
            "");
        String out = Clients.nbdsh("-u", fx.uri("ro"), "-c", script).stdout();
        assertTrue(out.contains("ok zero"), out);
    }
}

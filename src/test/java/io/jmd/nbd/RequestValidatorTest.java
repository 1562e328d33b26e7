package io.jmd.nbd;

import org.junit.jupiter.api.Test;

import static io.jmd.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The validator's verdicts, one rule per line (proto.md's error values). */
class RequestValidatorTest {
    private static final long SIZE = 1L << 20;

    private static Session session(boolean readOnly, boolean structured, boolean meta) {
        Export e = new Export("x", null, new TestDevice(null, "v", SIZE), readOnly, 1 << 16);
        return new Session(e, SIZE, structured, meta, e.transmissionFlags(structured));
    }

    private static int verdict(Session s, int flags, int type, long offset, long length) {
        Request r = new Request(REQUEST_MAGIC, flags, type, 1, offset, length);
        RequestValidator.Rejection x = RequestValidator.validate(r, s);
        return x == null ? 0 : x.error();
    }

    @Test
    void rules() {
        Session rw = session(false, false, false);
        Session sr = session(false, true, true);
        Session ro = session(true, true, false);
        assertEquals(0, verdict(rw, 0, CMD_READ, 0, 512));
        assertEquals(0, verdict(rw, CMD_FLAG_FUA, CMD_WRITE, SIZE - 512, 512));
        assertEquals(EINVAL, verdict(rw, 0, CMD_READ, SIZE - 512, 1024), "read past end");
        assertEquals(ENOSPC, verdict(rw, 0, CMD_WRITE, SIZE - 512, 1024), "write past end");
        assertEquals(ENOSPC, verdict(rw, 0, CMD_WRITE_ZEROES, SIZE, 512), "zeroes past end");
        assertEquals(EINVAL, verdict(rw, 0, CMD_TRIM, SIZE, 512), "trim past end");
        assertEquals(EINVAL, verdict(rw, 0, CMD_READ, Long.MIN_VALUE, 512), "u64 offset past 2^63");
        assertEquals(EINVAL, verdict(rw, 0, CMD_READ, 1, 512), "misaligned offset");
        assertEquals(EINVAL, verdict(rw, 0, CMD_WRITE, 0, 511), "misaligned length");
        assertEquals(EINVAL, verdict(rw, 0, CMD_CACHE, 0, 0), "zero length");
        assertEquals(EOVERFLOW, verdict(rw, 0, CMD_READ, 0, (1 << 16) + 512), "payload over the maximum");
        assertEquals(0, verdict(rw, 0, CMD_TRIM, 0, SIZE), "no payload, no payload limit");
        assertEquals(EINVAL, verdict(rw, 0, 8, 0, 512), "unknown command");
        assertEquals(EINVAL, verdict(rw, 0x80, CMD_READ, 0, 512), "unknown flag");
        assertEquals(EINVAL, verdict(rw, CMD_FLAG_NO_HOLE, CMD_WRITE, 0, 512), "NO_HOLE off WRITE_ZEROES");
        assertEquals(EINVAL, verdict(rw, CMD_FLAG_DF, CMD_READ, 0, 512), "DF without structured replies");
        assertEquals(0, verdict(sr, CMD_FLAG_DF, CMD_READ, 0, 512));
        assertEquals(EINVAL, verdict(sr, CMD_FLAG_REQ_ONE, CMD_READ, 0, 512), "REQ_ONE off BLOCK_STATUS");
        assertEquals(0, verdict(sr, CMD_FLAG_REQ_ONE, CMD_BLOCK_STATUS, 0, SIZE));
        assertEquals(EINVAL, verdict(rw, 0, CMD_BLOCK_STATUS, 0, 512), "no meta context");
        assertEquals(EINVAL, verdict(rw, 0, CMD_FLUSH, 0, 512), "flush with a length");
        assertEquals(0, verdict(rw, CMD_FLAG_FUA, CMD_FLUSH, 0, 0));
        assertEquals(EPERM, verdict(ro, 0, CMD_WRITE, 0, 512), "write on read-only");
        assertEquals(EPERM, verdict(ro, 0, CMD_WRITE, SIZE, 512), "read-only wins over the range");
        assertEquals(EPERM, verdict(ro, 0, CMD_TRIM, 0, 512));
        assertEquals(EPERM, verdict(ro, CMD_FLAG_FAST_ZERO, CMD_WRITE_ZEROES, 0, 512));
        assertNull(RequestValidator.validate(new Request(REQUEST_MAGIC, CMD_FLAG_FUA, CMD_READ, 1, 0, 512), ro));
    }
}

package io.jmd.md.parity;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link ParityKernels} a long (8 bytes) at a time: the fallback when the Vector API is not there,
 * and the oracle the vector kernels are tested against. The GF(2^8) doubling of eight bytes at
 * once is lib/raid6's int64 trick: shift left, then XOR 0x1d into every byte whose top bit fell out.
 */
public final class ScalarKernels implements ParityKernels {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final long HIGH_BITS = 0x8080808080808080L;
    private static final long LOW_SEVEN = 0xfefefefefefefefeL;

    /** recov.c's raid6_gfmul: 256 rows of 256 products, 64 KiB, built once. */
    private static final byte[][] MUL_ROWS = new byte[256][256];

    static {
        for (int c = 0; c < 256; c++) {
            for (int x = 0; x < 256; x++) {
                MUL_ROWS[c][x] = (byte) Gf256.mul(c, x);
            }
        }
    }

    public static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {
    }

    @Override
    public String name() {
        return "scalar 64-bit";
    }

    /** {02} · v in each of the eight bytes of v. */
    static long mul2(long v) {
        long carries = (v & HIGH_BITS) >>> 7;
        return ((v << 1) & LOW_SEVEN) ^ (carries * Gf256.POLY_LOW);
    }

    @Override
    public void xor(MemorySegment dst, MemorySegment[] src, int count, long offsetBytes, long lengthBytes) {
        checkRange(offsetBytes, lengthBytes);
        assert count >= 1 : "xor of nothing";
        long end = offsetBytes + lengthBytes;
        switch (count) {
            case 1 -> {
                if (src[0] != dst) {
                    MemorySegment.copy(src[0], offsetBytes, dst, offsetBytes, lengthBytes);
                }
            }
            case 2 -> {
                MemorySegment a = src[0];
                MemorySegment b = src[1];
                for (long i = offsetBytes; i < end; i += 8) {
                    dst.set(LONG, i, a.get(LONG, i) ^ b.get(LONG, i));
                }
            }
            case 3 -> {
                MemorySegment a = src[0];
                MemorySegment b = src[1];
                MemorySegment c = src[2];
                for (long i = offsetBytes; i < end; i += 8) {
                    dst.set(LONG, i, a.get(LONG, i) ^ b.get(LONG, i) ^ c.get(LONG, i));
                }
            }
            default -> {
                MemorySegment a = src[0];
                MemorySegment b = src[1];
                MemorySegment c = src[2];
                MemorySegment d = src[3];
                for (long i = offsetBytes; i < end; i += 8) {
                    dst.set(LONG, i, a.get(LONG, i) ^ b.get(LONG, i) ^ c.get(LONG, i) ^ d.get(LONG, i));
                }
                for (int s = 4; s < count; s++) {
                    xorInto(dst, src[s], offsetBytes, lengthBytes);
                }
            }
        }
    }

    @Override
    public void xorInto(MemorySegment dst, MemorySegment src, long offsetBytes, long lengthBytes) {
        checkRange(offsetBytes, lengthBytes);
        long end = offsetBytes + lengthBytes;
        for (long i = offsetBytes; i < end; i += 8) {
            dst.set(LONG, i, dst.get(LONG, i) ^ src.get(LONG, i));
        }
    }

    @Override
    public void genSyndrome(MemorySegment[] data, int slots, MemorySegment p, MemorySegment q, long offsetBytes,
                            long lengthBytes) {
        checkRange(offsetBytes, lengthBytes);
        assert slots >= 1 : "syndrome of nothing";
        long end = offsetBytes + lengthBytes;
        for (long i = offsetBytes; i < end; i += 8) {
            long pv = 0;
            long qv = 0;
            for (int z = slots - 1; z >= 0; z--) {
                MemorySegment d = data[z];
                long dv = d == null ? 0 : d.get(LONG, i);
                pv ^= dv;
                qv = mul2(qv) ^ dv;
            }
            if (p != null) {
                p.set(LONG, i, pv);
            }
            if (q != null) {
                q.set(LONG, i, qv);
            }
        }
    }

    @Override
    public void mul(MemorySegment dst, MemorySegment src, int c, long offsetBytes, long lengthBytes) {
        checkRange(offsetBytes, lengthBytes);
        byte[] row = row(c);
        long end = offsetBytes + lengthBytes;
        for (long i = offsetBytes; i < end; i++) {
            dst.set(BYTE, i, row[src.get(BYTE, i) & 0xff]);
        }
    }

    @Override
    public void mulXorInto(MemorySegment dst, MemorySegment src, int c, long offsetBytes, long lengthBytes) {
        checkRange(offsetBytes, lengthBytes);
        byte[] row = row(c);
        long end = offsetBytes + lengthBytes;
        for (long i = offsetBytes; i < end; i++) {
            dst.set(BYTE, i, (byte) (dst.get(BYTE, i) ^ row[src.get(BYTE, i) & 0xff]));
        }
    }

    /** The products c · x for every byte x (recov.c's raid6_gfmul[c]). */
    private static byte[] row(int c) {
        assert c >= 0 && c < 256 : "not a field element: " + c;
        return MUL_ROWS[c];
    }

    static void checkRange(long offsetBytes, long lengthBytes) {
        assert offsetBytes >= 0 : "negative offset " + offsetBytes;
        assert lengthBytes >= 0 : "negative length " + lengthBytes;
        assert (offsetBytes & 7) == 0 && (lengthBytes & 7) == 0 : "parity range not in whole longs: " + offsetBytes + "+" + lengthBytes;
    }
}

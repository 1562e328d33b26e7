package io.jmd.md.parity;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * {@link ParityKernels} on the widest vectors the CPU offers (jdk.incubator.vector's preferred
 * species: 64 bytes with AVX-512, 32 with AVX2). Ranges that do not fill a last vector finish
 * on {@link ScalarKernels}.
 *
 * <ul>
 *   <li>Doubling in GF(2^8), 64 bytes at once: {@code (q + q) ^ (0x1d where q's top bit was set)},
 *       lib/raid6's avx512 gen_syndrome in Java.</li>
 *   <li>Multiplication by a constant: two 16-entry tables (low and high nibble products) and a
 *       table lookup per nibble, as raid6's ssse3/avx2 recovery does with pshufb.</li>
 * </ul>
 */
public final class VectorKernels implements ParityKernels {
    private static final VectorSpecies<Byte> S = ByteVector.SPECIES_PREFERRED;
    private static final int VLEN = S.vectorByteSize();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ByteVector POLY = ByteVector.broadcast(S, (byte) Gf256.POLY_LOW);
    private static final ByteVector LOW_NIBBLE = ByteVector.broadcast(S, (byte) 0x0f);
    private static final ByteVector ZERO = ByteVector.zero(S);

    /** Per-constant nibble tables as vectors (the 16 entries repeated across the vector). */
    private static final ByteVector[] LOW_TABLES = new ByteVector[256];
    private static final ByteVector[] HIGH_TABLES = new ByteVector[256];

    static {
        for (int c = 0; c < 256; c++) {
            LOW_TABLES[c] = repeat(Gf256.lowNibbleTable(c));
            HIGH_TABLES[c] = repeat(Gf256.highNibbleTable(c));
        }
    }

    public static final VectorKernels INSTANCE = new VectorKernels();

    private VectorKernels() {
    }

    private static ByteVector repeat(byte[] table16) {
        byte[] lanes = new byte[VLEN];
        for (int i = 0; i < VLEN; i++) {
            lanes[i] = table16[i & 15];
        }
        return ByteVector.fromArray(S, lanes, 0);
    }

    @Override
    public String name() {
        return "vector " + S.vectorBitSize() + "-bit";
    }

    /** The vector width in bytes. */
    public static int vectorBytes() {
        return VLEN;
    }

    private static ByteVector load(MemorySegment seg, long at) {
        return ByteVector.fromMemorySegment(S, seg, at, ORDER);
    }

    private static ByteVector mul2(ByteVector q) {
        // 0x1d where the top bit is set (a signed compare into a mask, then a blend: x86 has no
        // byte shifts, and an arithmetic byte shift by 7 measured 3 to 5 times slower here)
        ByteVector carry = ZERO.blend(POLY, q.lt((byte) 0));
        return q.add(q).lanewise(VectorOperators.XOR, carry);
    }

    private static ByteVector mulConst(ByteVector v, ByteVector lowTable, ByteVector highTable) {
        ByteVector lo = v.and(LOW_NIBBLE);
        // high nibbles: shift 16-bit lanes (a real instruction) and mask, rather than shift bytes
        ByteVector hi = v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and(LOW_NIBBLE);
        return lo.selectFrom(lowTable).lanewise(VectorOperators.XOR, hi.selectFrom(highTable));
    }

    /** End of the part of the range that whole vectors cover. */
    private static long vectorEnd(long offsetBytes, long lengthBytes) {
        return offsetBytes + (lengthBytes - lengthBytes % VLEN);
    }

    @Override
    public void xor(MemorySegment dst, MemorySegment[] src, int count, long offsetBytes, long lengthBytes) {
        ScalarKernels.checkRange(offsetBytes, lengthBytes);
        assert count >= 1 : "xor of nothing";
        long vend = vectorEnd(offsetBytes, lengthBytes);
        switch (count) {
            case 1 -> {
                if (src[0] != dst) {
                    MemorySegment.copy(src[0], offsetBytes, dst, offsetBytes, lengthBytes);
                }
                return;
            }
            case 2 -> {
                MemorySegment a = src[0];
                MemorySegment b = src[1];
                for (long i = offsetBytes; i < vend; i += VLEN) {
                    load(a, i).lanewise(VectorOperators.XOR, load(b, i)).intoMemorySegment(dst, i, ORDER);
                }
            }
            case 3 -> {
                MemorySegment a = src[0];
                MemorySegment b = src[1];
                MemorySegment c = src[2];
                for (long i = offsetBytes; i < vend; i += VLEN) {
                    load(a, i).lanewise(VectorOperators.XOR, load(b, i)).lanewise(VectorOperators.XOR, load(c, i))
                        .intoMemorySegment(dst, i, ORDER);
                }
            }
            default -> {
                // Four sources per pass (lib/xor's xor_blocks does up to five), then the rest in place.
                MemorySegment a = src[0];
                MemorySegment b = src[1];
                MemorySegment c = src[2];
                MemorySegment d = src[3];
                for (long i = offsetBytes; i < vend; i += VLEN) {
                    load(a, i).lanewise(VectorOperators.XOR, load(b, i))
                        .lanewise(VectorOperators.XOR, load(c, i).lanewise(VectorOperators.XOR, load(d, i)))
                        .intoMemorySegment(dst, i, ORDER);
                }
                for (int s = 4; s + 2 < count; s += 3) {
                    xor3Into(dst, src[s], src[s + 1], src[s + 2], offsetBytes, vend);
                }
                for (int s = 4 + (count - 4) / 3 * 3; s < count; s++) {
                    xorIntoVectors(dst, src[s], offsetBytes, vend);
                }
            }
        }
        if (vend < offsetBytes + lengthBytes) {
            ScalarKernels.INSTANCE.xor(dst, src, count, vend, offsetBytes + lengthBytes - vend);
        }
    }

    private static void xor3Into(MemorySegment dst, MemorySegment a, MemorySegment b, MemorySegment c, long from, long to) {
        for (long i = from; i < to; i += VLEN) {
            load(dst, i).lanewise(VectorOperators.XOR, load(a, i))
                .lanewise(VectorOperators.XOR, load(b, i).lanewise(VectorOperators.XOR, load(c, i)))
                .intoMemorySegment(dst, i, ORDER);
        }
    }

    private static void xorIntoVectors(MemorySegment dst, MemorySegment src, long from, long to) {
        for (long i = from; i < to; i += VLEN) {
            load(dst, i).lanewise(VectorOperators.XOR, load(src, i)).intoMemorySegment(dst, i, ORDER);
        }
    }

    @Override
    public void xorInto(MemorySegment dst, MemorySegment src, long offsetBytes, long lengthBytes) {
        ScalarKernels.checkRange(offsetBytes, lengthBytes);
        long vend = vectorEnd(offsetBytes, lengthBytes);
        xorIntoVectors(dst, src, offsetBytes, vend);
        if (vend < offsetBytes + lengthBytes) {
            ScalarKernels.INSTANCE.xorInto(dst, src, vend, offsetBytes + lengthBytes - vend);
        }
    }

    @Override
    public void genSyndrome(MemorySegment[] data, int slots, MemorySegment p, MemorySegment q, long offsetBytes,
                            long lengthBytes) {
        ScalarKernels.checkRange(offsetBytes, lengthBytes);
        assert slots >= 1 : "syndrome of nothing";
        long vend = vectorEnd(offsetBytes, lengthBytes);
        int top = slots - 1;
        while (top > 0 && data[top] == null) {
            top--; // leading zero blocks add nothing to either syndrome
        }
        for (long i = offsetBytes; i < vend; i += VLEN) {
            ByteVector pv = data[top] == null ? ByteVector.zero(S) : load(data[top], i);
            ByteVector qv = pv;
            for (int z = top - 1; z >= 0; z--) {
                MemorySegment d = data[z];
                qv = mul2(qv);
                if (d != null) {
                    ByteVector dv = load(d, i);
                    pv = pv.lanewise(VectorOperators.XOR, dv);
                    qv = qv.lanewise(VectorOperators.XOR, dv);
                }
            }
            if (p != null) {
                pv.intoMemorySegment(p, i, ORDER);
            }
            if (q != null) {
                qv.intoMemorySegment(q, i, ORDER);
            }
        }
        if (vend < offsetBytes + lengthBytes) {
            ScalarKernels.INSTANCE.genSyndrome(data, slots, p, q, vend, offsetBytes + lengthBytes - vend);
        }
    }

    @Override
    public void mul(MemorySegment dst, MemorySegment src, int c, long offsetBytes, long lengthBytes) {
        ScalarKernels.checkRange(offsetBytes, lengthBytes);
        ByteVector lowTable = LOW_TABLES[c];
        ByteVector highTable = HIGH_TABLES[c];
        long vend = vectorEnd(offsetBytes, lengthBytes);
        for (long i = offsetBytes; i < vend; i += VLEN) {
            mulConst(load(src, i), lowTable, highTable).intoMemorySegment(dst, i, ORDER);
        }
        if (vend < offsetBytes + lengthBytes) {
            ScalarKernels.INSTANCE.mul(dst, src, c, vend, offsetBytes + lengthBytes - vend);
        }
    }

    @Override
    public void mulXorInto(MemorySegment dst, MemorySegment src, int c, long offsetBytes, long lengthBytes) {
        ScalarKernels.checkRange(offsetBytes, lengthBytes);
        ByteVector lowTable = LOW_TABLES[c];
        ByteVector highTable = HIGH_TABLES[c];
        long vend = vectorEnd(offsetBytes, lengthBytes);
        for (long i = offsetBytes; i < vend; i += VLEN) {
            load(dst, i).lanewise(VectorOperators.XOR, mulConst(load(src, i), lowTable, highTable))
                .intoMemorySegment(dst, i, ORDER);
        }
        if (vend < offsetBytes + lengthBytes) {
            ScalarKernels.INSTANCE.mulXorInto(dst, src, c, vend, offsetBytes + lengthBytes - vend);
        }
    }
}

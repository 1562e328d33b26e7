package io.jmd.md.parity;

import java.lang.foreign.MemorySegment;

/**
 * The wide loops under RAID4/5/6: XOR, the P+Q syndrome and multiplication by a constant in
 * GF(2^8) (lib/raid6's gen_syndrome, xor_syndrome and the tables recov.c multiplies with).
 *
 * <p>Every operand is a segment and every operation works on the same byte range
 * {@code [offsetBytes, offsetBytes + lengthBytes)} of each: the stripe cache keeps one buffer per
 * member, and a column of a stripe sits at the same offset in all of them. Lengths are multiples
 * of 8 (md works in 512-byte sectors); implementations assert it.
 *
 * <p>Two implementations: {@link VectorKernels} (jdk.incubator.vector, the widest vectors the CPU
 * has) and {@link ScalarKernels} (a long at a time), picked once by {@link Parity#kernels()}.
 */
public interface ParityKernels {
    /** A short description for reports ("vector 512-bit", "scalar 64-bit"). */
    String name();

    /** {@code dst = src[0] ^ src[1] ^ ... ^ src[count - 1]} (count >= 1; dst may be one of them). */
    void xor(MemorySegment dst, MemorySegment[] src, int count, long offsetBytes, long lengthBytes);

    /** {@code dst ^= src}. */
    void xorInto(MemorySegment dst, MemorySegment src, long offsetBytes, long lengthBytes);

    /**
     * RAID6 syndromes over {@code slots} data blocks in syndrome-slot order: P = XOR of all,
     * Q = sum of g^z · D_z. A null {@code data[z]} is a block of zeroes. {@code p} or {@code q} may
     * be null when not wanted; either may be the same segment as a null-data slot's target.
     */
    void genSyndrome(MemorySegment[] data, int slots, MemorySegment p, MemorySegment q, long offsetBytes, long lengthBytes);

    /** {@code dst = c · src} in GF(2^8) (dst may be src). */
    void mul(MemorySegment dst, MemorySegment src, int c, long offsetBytes, long lengthBytes);

    /** {@code dst ^= c · src} in GF(2^8). */
    void mulXorInto(MemorySegment dst, MemorySegment src, int c, long offsetBytes, long lengthBytes);
}

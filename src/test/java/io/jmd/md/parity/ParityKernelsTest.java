package io.jmd.md.parity;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both kernel sets against a byte-at-a-time oracle built on {@link Gf256}, and the RAID6
 * recoveries against the blocks they rebuild. Lengths include ones that end inside a vector.
 */
final class ParityKernelsTest {
    static final List<ParityKernels> KERNELS = List.of(ScalarKernels.INSTANCE, VectorKernels.INSTANCE);
    static final long[] LENGTHS = {8, 64, 200, 512, 4096, 4096 + 72};

    final SplittableRandom random = new SplittableRandom(7);
    final Arena arena = Arena.ofAuto();

    MemorySegment randomSegment(long bytes) {
        MemorySegment s = arena.allocate(bytes + 64, 64);
        for (long i = 0; i < s.byteSize(); i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
        }
        return s;
    }

    static byte[] bytes(MemorySegment s, long off, long len) {
        return s.asSlice(off, len).toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void gfTablesMatchTheKernelsField() {
        assertEquals(0x1d, Gf256.mul2(0x80), "0x80 * 2 wraps through 0x11d");
        assertEquals(1, Gf256.exp(0));
        assertEquals(2, Gf256.exp(1));
        assertEquals(0x1d, Gf256.exp(8));
        for (int a = 1; a < 256; a++) {
            assertEquals(1, Gf256.mul(a, Gf256.inv(a)), "inverse of " + a);
            assertEquals(a, Gf256.exp(Gf256.log(a)));
        }
        assertEquals(Gf256.mul(0x53, 0xca), Gf256.mul(0xca, 0x53));
    }

    @Test
    void preferredKernelsAreTheVectorOnesHere() {
        assertTrue(Parity.kernels() instanceof VectorKernels, "surefire runs with --add-modules jdk.incubator.vector: "
            + Parity.kernels().name());
        assertTrue(VectorKernels.vectorBytes() >= 16);
    }

    @Test
    void xorOfAnyNumberOfSources() {
        for (ParityKernels k : KERNELS) {
            for (long len : LENGTHS) {
                for (int count = 1; count <= 9; count++) {
                    MemorySegment[] src = new MemorySegment[count];
                    byte[] expected = new byte[(int) len];
                    for (int s = 0; s < count; s++) {
                        src[s] = randomSegment(len + 16);
                        byte[] b = bytes(src[s], 8, len);
                        for (int i = 0; i < len; i++) {
                            expected[i] ^= b[i];
                        }
                    }
                    MemorySegment dst = randomSegment(len + 16);
                    byte[] before = bytes(dst, 0, 8);
                    k.xor(dst, src, count, 8, len);
                    assertArrayEquals(expected, bytes(dst, 8, len), k.name() + " xor of " + count + ", " + len + " bytes");
                    assertArrayEquals(before, bytes(dst, 0, 8), "outside the range is untouched");
                    k.xorInto(dst, src[0], 8, len);
                    byte[] s0 = bytes(src[0], 8, len);
                    for (int i = 0; i < len; i++) {
                        expected[i] ^= s0[i];
                    }
                    assertArrayEquals(expected, bytes(dst, 8, len), k.name() + " xorInto");
                }
            }
        }
    }

    @Test
    void syndromeMatchesTheFieldDefinition() {
        for (ParityKernels k : KERNELS) {
            for (long len : LENGTHS) {
                for (int slots = 1; slots <= 20; slots += 3) {
                    MemorySegment[] data = new MemorySegment[slots];
                    for (int z = 0; z < slots; z++) {
                        data[z] = z % 5 == 3 ? null : randomSegment(len);
                    }
                    MemorySegment p = randomSegment(len);
                    MemorySegment q = randomSegment(len);
                    k.genSyndrome(data, slots, p, q, 0, len);
                    for (int i = 0; i < len; i++) {
                        int pe = 0;
                        int qe = 0;
                        for (int z = 0; z < slots; z++) {
                            int d = data[z] == null ? 0 : data[z].get(ValueLayout.JAVA_BYTE, i) & 0xff;
                            pe ^= d;
                            qe ^= Gf256.mul(Gf256.exp(z), d);
                        }
                        assertEquals(pe, p.get(ValueLayout.JAVA_BYTE, i) & 0xff, k.name() + " P byte " + i);
                        assertEquals(qe, q.get(ValueLayout.JAVA_BYTE, i) & 0xff, k.name() + " Q byte " + i);
                    }
                }
            }
        }
    }

    @Test
    void multiplicationByEveryConstant() {
        long len = 4096 + 72;
        MemorySegment src = randomSegment(len);
        for (ParityKernels k : KERNELS) {
            for (int c = 0; c < 256; c++) {
                MemorySegment dst = randomSegment(len);
                byte[] before = bytes(dst, 0, len);
                k.mulXorInto(dst, src, c, 0, len);
                for (int i = 0; i < len; i++) {
                    int want = (before[i] & 0xff) ^ Gf256.mul(c, src.get(ValueLayout.JAVA_BYTE, i) & 0xff);
                    assertEquals(want, dst.get(ValueLayout.JAVA_BYTE, i) & 0xff, k.name() + " c=" + c + " byte " + i);
                }
                k.mul(dst, src, c, 0, len);
                for (int i = 0; i < len; i += 7) {
                    assertEquals(Gf256.mul(c, src.get(ValueLayout.JAVA_BYTE, i) & 0xff),
                        dst.get(ValueLayout.JAVA_BYTE, i) & 0xff, k.name() + " mul c=" + c);
                }
            }
        }
    }

    @Test
    void raid6RecoversEveryPairOfLostBlocks() {
        long len = 4096 + 72;
        int slots = 7;
        for (ParityKernels k : KERNELS) {
            MemorySegment[] data = new MemorySegment[slots];
            for (int z = 0; z < slots; z++) {
                data[z] = randomSegment(len);
            }
            MemorySegment p = randomSegment(len);
            MemorySegment q = randomSegment(len);
            k.genSyndrome(data, slots, p, q, 0, len);
            byte[][] truth = new byte[slots][];
            for (int z = 0; z < slots; z++) {
                truth[z] = bytes(data[z], 0, len);
            }
            byte[] pTruth = bytes(p, 0, len);
            byte[] qTruth = bytes(q, 0, len);
            for (int a = 0; a < slots; a++) {
                for (int b = a + 1; b < slots; b++) {
                    data[a].fill((byte) 0x5a);
                    data[b].fill((byte) 0xa5);
                    Parity.recoverTwoData(k, data, slots, a, b, p, q, 0, len);
                    assertArrayEquals(truth[a], bytes(data[a], 0, len), k.name() + " data " + a + "+" + b);
                    assertArrayEquals(truth[b], bytes(data[b], 0, len), k.name() + " data " + a + "+" + b);
                }
                data[a].fill((byte) 0x33);
                p.fill((byte) 0x44);
                Parity.recoverDataAndP(k, data, slots, a, p, q, 0, len);
                assertArrayEquals(truth[a], bytes(data[a], 0, len), k.name() + " data " + a + " + P");
                assertArrayEquals(pTruth, bytes(p, 0, len), k.name() + " P with data " + a);
                data[a].fill((byte) 0x77);
                Parity.recoverDataFromP(k, data, slots, a, p, new MemorySegment[slots + 1], 0, len);
                assertArrayEquals(truth[a], bytes(data[a], 0, len), k.name() + " data " + a + " from P");
            }
            assertArrayEquals(qTruth, bytes(q, 0, len), "Q is only read");
        }
    }
}

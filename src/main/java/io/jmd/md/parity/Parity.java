package io.jmd.md.parity;

import java.lang.foreign.MemorySegment;

/**
 * Parity operations of RAID4/5/6 on top of the chosen {@link ParityKernels}: syndromes and the
 * recovery of one or two missing blocks of a RAID6 column (lib/raid6/recov.c: 2data, datap; the
 * other pairs are an XOR and a regeneration).
 *
 * <p>Slots: {@code data[z]} is the block with syndrome slot z (Q = sum of g^z · D_z); the caller
 * maps members to slots (raid6_idx_to_slot). Every operation covers the same byte range of every
 * segment.
 *
 * <p>Kernels: the Vector API ones when the jdk.incubator.vector module is present and its vectors
 * are at least 16 bytes wide, else long-at-a-time. {@code -Djmd.parity=scalar} forces the latter.
 */
public final class Parity {
    private static final ParityKernels KERNELS = choose();

    private Parity() {
    }

    private static ParityKernels choose() {
        if ("scalar".equals(System.getProperty("jmd.parity"))) {
            return ScalarKernels.INSTANCE;
        }
        try {
            // By name: without --add-modules jdk.incubator.vector, loading it fails, and that is fine.
            Class<?> c = Class.forName("io.jmd.md.parity.VectorKernels");
            int bytes = (int) c.getMethod("vectorBytes").invoke(null);
            if (bytes >= 16) {
                warnOfProfiledLoopPredicates();
                return (ParityKernels) c.getField("INSTANCE").get(null);
            }
        } catch (ReflectiveOperationException | LinkageError e) {
            // no vector module: fall through to the scalar kernels
        }
        return ScalarKernels.INSTANCE;
    }

    /**
     * The vector kernels want the JVM run with {@code -XX:-UseProfiledLoopPredicate}, as
     * scripts/jvm.args has it: with it on, HotSpot 25 was seen recompiling the XOR kernel every few
     * hundred milliseconds for the first ~40 s of raid5 load. An embedding application that did
     * not set it is told once.
     */
    private static void warnOfProfiledLoopPredicates() {
        try {
            var hotspot = java.lang.management.ManagementFactory.getPlatformMXBean(
                com.sun.management.HotSpotDiagnosticMXBean.class);
            if (hotspot != null && "true".equals(hotspot.getVMOption("UseProfiledLoopPredicate").getValue())) {
                System.getLogger(Parity.class.getName()).log(System.Logger.Level.WARNING,
                    "parity kernels: run the JVM with -XX:-UseProfiledLoopPredicate (see scripts/jvm.args): without it"
                        + " C2 recompiles the XOR kernel again and again for the first ~40 s under load");
            }
        } catch (RuntimeException | LinkageError e) {
            // not HotSpot, or no such flag: nothing to say
        }
    }

    /** The kernels every parity level uses. */
    public static ParityKernels kernels() {
        return KERNELS;
    }

    /**
     * Rebuilds the data blocks of slots {@code a < b} from the others and P, Q (recov.c
     * raid6_2data_recov). {@code data[a]} and {@code data[b]} are the targets; their content on
     * entry does not matter.
     *
     * <pre>
     *   P' = XOR of the other data, Q' = their syndrome (into Da, Db)
     *   Da ^ Db = P ^ P' = px        g^a·Da ^ g^b·Db = Q ^ Q' = qx
     *   Db = qx / (g^a ^ g^b)  ^  px · g^a / (g^a ^ g^b)        Da = px ^ Db
     * </pre>
     */
    public static void recoverTwoData(ParityKernels k, MemorySegment[] data, int slots, int a, int b,
                                      MemorySegment p, MemorySegment q, long offsetBytes, long lengthBytes) {
        assert a >= 0 && a < b && b < slots : "bad failed slots " + a + ", " + b + " of " + slots;
        MemorySegment da = data[a];
        MemorySegment db = data[b];
        data[a] = null;
        data[b] = null;
        try {
            k.genSyndrome(data, slots, da, db, offsetBytes, lengthBytes);
        } finally {
            data[a] = da;
            data[b] = db;
        }
        k.xorInto(da, p, offsetBytes, lengthBytes);                 // Da = px
        k.xorInto(db, q, offsetBytes, lengthBytes);                 // Db = Q ^ Q'
        int denominator = Gf256.exp(a) ^ Gf256.exp(b);
        k.mul(db, db, Gf256.inv(denominator), offsetBytes, lengthBytes);
        k.mulXorInto(db, da, Gf256.div(Gf256.exp(a), denominator), offsetBytes, lengthBytes);
        k.xorInto(da, db, offsetBytes, lengthBytes);
    }

    /**
     * Rebuilds the data block of slot {@code a} and P from the other data and Q (recov.c
     * raid6_datap_recov): Da = (Q ^ Q') / g^a, P = P' ^ Da. {@code data[a]} and {@code p} are targets.
     */
    public static void recoverDataAndP(ParityKernels k, MemorySegment[] data, int slots, int a,
                                       MemorySegment p, MemorySegment q, long offsetBytes, long lengthBytes) {
        assert a >= 0 && a < slots : "bad failed slot " + a;
        MemorySegment da = data[a];
        data[a] = null;
        try {
            k.genSyndrome(data, slots, p, da, offsetBytes, lengthBytes);
        } finally {
            data[a] = da;
        }
        k.xorInto(da, q, offsetBytes, lengthBytes);
        k.mul(da, da, Gf256.inv(Gf256.exp(a)), offsetBytes, lengthBytes);
        k.xorInto(p, da, offsetBytes, lengthBytes);
    }

    /**
     * Rebuilds the data block of slot {@code a} from P and the other data: a plain XOR (RAID5's
     * only recovery, RAID6's when Q is lost or not needed). {@code data[a]} is the target.
     */
    public static void recoverDataFromP(ParityKernels k, MemorySegment[] data, int slots, int a, MemorySegment p,
                                        MemorySegment[] scratch, long offsetBytes, long lengthBytes) {
        int n = 0;
        for (int z = 0; z < slots; z++) {
            if (z != a && data[z] != null) {
                scratch[n++] = data[z];
            }
        }
        scratch[n++] = p;
        k.xor(data[a], scratch, n, offsetBytes, lengthBytes);
    }
}

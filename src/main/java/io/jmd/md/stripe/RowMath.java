package io.jmd.md.stripe;

import io.jmd.md.parity.Parity;
import io.jmd.md.parity.ParityKernels;

import java.lang.foreign.MemorySegment;

/**
 * The parity arithmetic of one row's blocks, over buffers indexed by member: parity from data,
 * and lost blocks from the rest (raid5: XOR; raid6: lib/raid6's recovery cases). Used by the
 * online sync ({@link StripeSync}); every method works on the byte range [from, from + len) of
 * each buffer and keeps no state, so one instance serves one thread (it owns scratch arrays).
 */
final class RowMath {
    private final ParityKernels kernels;
    private final int members;
    private final MemorySegment[] sources;
    private final MemorySegment[] syndrome;

    RowMath(ParityKernels kernels, int members) {
        this.kernels = kernels;
        this.members = members;
        this.sources = new MemorySegment[members + 1];
        this.syndrome = new MemorySegment[members];
    }

    /** P (and Q, raid6) of the row's data into {@code p} and {@code q} (either may be null: not wanted). */
    void parity(RowPattern pat, MemorySegment[] byMember, MemorySegment p, MemorySegment q, long from, long len) {
        if (pat.qd() < 0) {
            int n = 0;
            for (int m : pat.dataMember()) {
                sources[n++] = byMember[m];
            }
            if (p != null) {
                kernels.xor(p, sources, n, from, len);
            }
            return;
        }
        fillSyndrome(pat, byMember);
        kernels.genSyndrome(syndrome, pat.slots(), p, q, from, len);
    }

    private void fillSyndrome(RowPattern pat, MemorySegment[] byMember) {
        java.util.Arrays.fill(syndrome, null);
        for (int m : pat.dataMember()) {
            syndrome[pat.slot()[m]] = byMember[m];
        }
    }

    /**
     * Rebuilds the blocks of the members in {@code lost} (at most the level's parity count) from
     * the others, in place in their buffers.
     */
    void rebuild(RowPattern pat, long lost, MemorySegment[] byMember, long from, long len) {
        if (lost == 0) {
            return;
        }
        if (pat.qd() < 0) {
            assert Long.bitCount(lost) == 1 : "raid4/5 rebuilds one member, not " + Long.bitCount(lost);
            int gone = Long.numberOfTrailingZeros(lost);
            int n = 0;
            for (int m = 0; m < members; m++) {
                if (m != gone) {
                    sources[n++] = byMember[m];
                }
            }
            kernels.xor(byMember[gone], sources, n, from, len);
            return;
        }
        assert Long.bitCount(lost) <= 2 : "raid6 rebuilds two members at most";
        boolean pLost = (lost & (1L << pat.pd())) != 0;
        boolean qLost = (lost & (1L << pat.qd())) != 0;
        long dataLost = lost & ~(1L << pat.pd()) & ~(1L << pat.qd());
        MemorySegment pSeg = byMember[pat.pd()];
        MemorySegment qSeg = byMember[pat.qd()];
        fillSyndrome(pat, byMember);
        switch (Long.bitCount(dataLost)) {
            case 0 -> kernels.genSyndrome(syndrome, pat.slots(), pLost ? pSeg : null, qLost ? qSeg : null, from, len);
            case 1 -> {
                int a = pat.slot()[Long.numberOfTrailingZeros(dataLost)];
                if (!pLost) {
                    Parity.recoverDataFromP(kernels, syndrome, pat.slots(), a, pSeg, sources, from, len);
                    if (qLost) {
                        kernels.genSyndrome(syndrome, pat.slots(), null, qSeg, from, len);
                    }
                } else {
                    Parity.recoverDataAndP(kernels, syndrome, pat.slots(), a, pSeg, qSeg, from, len);
                }
            }
            default -> {
                int first = pat.slot()[Long.numberOfTrailingZeros(dataLost)];
                int second = pat.slot()[63 - Long.numberOfLeadingZeros(dataLost)];
                Parity.recoverTwoData(kernels, syndrome, pat.slots(), Math.min(first, second), Math.max(first, second),
                    pSeg, qSeg, from, len);
            }
        }
    }
}

package io.jmd.sim;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.BitSet;

/**
 * The reference: for every 512-byte sector of the array, the set of values it may hold. A value is
 * a write's id (content: {@link #fill}); 0 is zeroes (never written, trimmed).
 *
 * <pre>
 *   readable[s]  what a read may return now: the last acknowledged write, or several values
 *                after a crash (until a read pins one), a trim (old or zero) or a failed write
 *   durable[s]   what a crash may leave: readable values that a flush or FUA made durable,
 *                plus every value acknowledged (or failed) since
 *   inFlight[s]  the value of the write or trim in flight on s (NONE if none); a read or a crash
 *                may see it too
 *
 *   write ack:   readable = {v};  durable = FUA ? {v} : durable + {v}
 *   trim ack:    readable += {0}; durable += {0}
 *   failure:     readable += {v}; durable += {v}
 *   flush ack:   for sectors acknowledged before the flush was submitted: durable = readable
 *   crash:       readable = durable = durable + inFlight
 *   read:        value must be in readable + inFlight; if several were possible, it pins readable
 * </pre>
 * The workload never has two writes (or trims) in flight on one sector: concurrent overlapping
 * writes have no defined result on a mirror (md does not order them either).
 */
final class Oracle {
    static final long NONE = Long.MIN_VALUE;
    /** Decoded content that is no written value: torn inside a sector, or garbage. */
    static final long CORRUPT = -1;

    private final int sectors;
    private final long[][] readable;
    private final long[][] durable;
    private final long[] inFlight;
    private final long[] ackSeq;
    private final BitSet unflushed = new BitSet();
    private long seq;

    Oracle(int sectors) {
        this.sectors = sectors;
        this.readable = new long[sectors][];
        this.durable = new long[sectors][];
        this.inFlight = new long[sectors];
        this.ackSeq = new long[sectors];
        long[] zero = {0};
        for (int i = 0; i < sectors; i++) {
            readable[i] = zero;
            durable[i] = zero;
            inFlight[i] = NONE;
        }
    }

    int sectors() {
        return sectors;
    }

    boolean isFree(int first, int count) {
        for (int s = first; s < first + count; s++) {
            if (inFlight[s] != NONE) {
                return false;
            }
        }
        return true;
    }

    /** A write (value > 0) or trim (value 0) of the range is submitted. */
    void begin(int first, int count, long value) {
        for (int s = first; s < first + count; s++) {
            assert inFlight[s] == NONE : "overlapping writes on sector " + s;
            inFlight[s] = value;
        }
    }

    /** The write or trim of the range ended; {@code ok}: acknowledged with success. */
    void end(int first, int count, boolean ok, boolean fua) {
        long mySeq = ++seq;
        for (int s = first; s < first + count; s++) {
            long v = inFlight[s];
            assert v != NONE : "end of a write not begun on sector " + s;
            inFlight[s] = NONE;
            if (ok && v != 0) {
                readable[s] = new long[] {v};
                durable[s] = fua ? readable[s] : with(durable[s], v);
            } else {
                readable[s] = with(readable[s], v);
                durable[s] = with(durable[s], v);
            }
            if (!(ok && fua && v != 0)) {
                unflushed.set(s);
                ackSeq[s] = mySeq;
            }
        }
    }

    /** A flush is submitted: returns what it covers. */
    long flushBegin() {
        return seq;
    }

    /** A flush submitted when {@link #flushBegin} returned {@code covered} ended with success. */
    void flushEnd(long covered) {
        for (int s = unflushed.nextSetBit(0); s >= 0; s = unflushed.nextSetBit(s + 1)) {
            if (ackSeq[s] <= covered && inFlight[s] == NONE) {
                durable[s] = readable[s];
                unflushed.clear(s);
            }
        }
    }

    /** Power loss: see the class comment. */
    void crash() {
        for (int s = 0; s < sectors; s++) {
            long[] d = inFlight[s] == NONE ? durable[s] : with(durable[s], inFlight[s]);
            readable[s] = d;
            durable[s] = d;
            inFlight[s] = NONE;
        }
        unflushed.clear();
    }

    /**
     * Checks a read of sector {@code s} that returned {@code value}; null if allowed, else what was
     * allowed. Pins the sector when several values were possible.
     */
    String check(int s, long value) {
        long[] r = readable[s];
        long f = inFlight[s];
        if (contains(r, value) || (f != NONE && f == value)) {
            if (r.length > 1 && f == NONE) {
                readable[s] = new long[] {value};
            }
            return null;
        }
        return "sector " + s + " read " + name(value) + ", allowed " + names(r) + (f == NONE ? "" : " or in-flight " + name(f));
    }

    /** Values sector {@code s} must hold durably for no flushed write to be lost (diagnostics). */
    String durableNames(int s) {
        return names(durable[s]);
    }

    private static boolean contains(long[] set, long v) {
        for (long x : set) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private static long[] with(long[] set, long v) {
        if (contains(set, v)) {
            return set;
        }
        long[] n = java.util.Arrays.copyOf(set, set.length + 1);
        n[set.length] = v;
        return n;
    }

    private static String names(long[] set) {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < set.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(name(set[i]));
        }
        return sb.append('}').toString();
    }

    static String name(long v) {
        return v == 0 ? "zeroes" : v == CORRUPT ? "garbage" : v < 0 ? "sector " + (-v - 2) + "'s content" : "write#" + v;
    }

    // ---------------------------------------------------------------------------------------------
    // Sector content: 64 longs, {value, sector, mix(value, sector, i)...}, so that a torn, stale or
    // misplaced sector is told apart from the value it should hold.

    private static final int WORDS = 512 / 8;

    private static long mix(long value, long sector, int i) {
        long x = value * 0x9E3779B97F4A7C15L ^ sector * 0xC2B2AE3D27D4EB4FL ^ i;
        return x ^ (x >>> 29);
    }

    /** Fills sector {@code sector}'s 512 bytes at {@code at} in {@code seg} with {@code value}. */
    static void fill(MemorySegment seg, long at, long sector, long value) {
        seg.set(ValueLayout.JAVA_LONG_UNALIGNED, at, value);
        seg.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 8, sector);
        for (int i = 2; i < WORDS; i++) {
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 8L * i, mix(value, sector, i));
        }
    }

    /**
     * The value sector {@code sector} holds, decoded from 512 bytes at {@code at}: 0 for zeroes,
     * {@link #CORRUPT} for garbage, {@code -(2 + other)} for sector {@code other}'s content.
     */
    static long decode(MemorySegment seg, long at, long sector) {
        long value = seg.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
        long whose = seg.get(ValueLayout.JAVA_LONG_UNALIGNED, at + 8);
        if (value == 0 && whose == 0) {
            for (int i = 2; i < WORDS; i++) {
                if (seg.get(ValueLayout.JAVA_LONG_UNALIGNED, at + 8L * i) != 0) {
                    return CORRUPT;
                }
            }
            return 0;
        }
        if (value <= 0 || whose < 0) {
            return CORRUPT;
        }
        for (int i = 2; i < WORDS; i++) {
            if (seg.get(ValueLayout.JAVA_LONG_UNALIGNED, at + 8L * i) != mix(value, whose, i)) {
                return CORRUPT;
            }
        }
        return whose == sector ? value : -(2 + whose);
    }
}

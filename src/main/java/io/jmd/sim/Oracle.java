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
 *   read:        value must be in what readable + inFlight held at any time while the read was in
 *                flight (its {@link Read} window); if several were possible and nothing overlapped,
 *                it pins readable
 * </pre>
 * The workload never has two writes (or trims) in flight on one sector: concurrent overlapping
 * writes have no defined result on a mirror (md does not order them either).
 *
 * <p>Lost sectors ({@link #lose}): a parity array's write hole. A crash while a row was being
 * written leaves its parity not matching its data until the resync; a member missing or unreadable
 * there meanwhile is rebuilt from that parity, wrongly. md does not close the hole (without a
 * journal or PPL) and refuses to start such an array unless forced. Such a sector may read as
 * anything until a write replaces it, and a crash before that write is durable brings it back; a
 * write while the row's parity may still not match does not bring it back ({@link #setStickyLost}).
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
    /** Sectors lost to the write hole: any content until written. */
    private final BitSet lost = new BitSet();
    /** Lost sectors a crash would bring back (the replacing write is not durable yet). */
    private final BitSet lostDurable = new BitSet();
    private long lostReads;
    /** Lost sectors a write does not bring back (their page's parity may still not match). */
    private java.util.function.IntPredicate stickyLost = s -> false;
    private long seq;
    /** Reads in flight: every write or trim begun meanwhile widens what they may return. */
    private final java.util.List<Read> reads = new java.util.ArrayList<>();

    /** A read in flight over [first, first+count): the values each sector could show meanwhile. */
    final class Read {
        final int first;
        final int count;
        final long[][] seen;
        /** A write or trim of the sector was in flight at some time during the read: no pinning. */
        final boolean[] overlapped;
        /** The sector was lost (write hole) when the read began. */
        final boolean[] wasLost;

        Read(int first, int count) {
            this.first = first;
            this.count = count;
            this.seen = new long[count][];
            this.overlapped = new boolean[count];
            this.wasLost = new boolean[count];
            for (int i = 0; i < count; i++) {
                int s = first + i;
                wasLost[i] = lost.get(s);
                seen[i] = inFlight[s] == NONE ? readable[s] : with(readable[s], inFlight[s]);
                overlapped[i] = inFlight[s] != NONE;
            }
        }

        /**
         * Checks sector {@code s}'s value as read; null if allowed, else what was. Ends nothing:
         * call {@link #end} once every sector was checked.
         */
        String check(int s, long value) {
            int i = s - first;
            long[] now = readable[s];
            long f = inFlight[s];
            if (contains(seen[i], value) || contains(now, value) || (f != NONE && f == value)) {
                // Pinned only by a read no write overlapped (found by seed 5017 at 200000 requests: a
                // read that began before a trim pinned the old value the trim then replaced).
                if (!overlapped[i] && f == NONE && now.length > 1) {
                    readable[s] = new long[] {value};
                }
                return null;
            }
            if (wasLost[i] || lost.get(s)) {
                lostReads++;
                return null; // the write hole: any content (class comment)
            }
            return "sector " + s + " read " + name(value) + ", allowed " + names(seen[i]) + " when the read began, "
                + names(now) + (f == NONE ? "" : " or in-flight " + name(f)) + " when it ended";
        }

        void end() {
            reads.remove(this);
        }
    }

    /** A read of the range begins. */
    Read beginRead(int first, int count) {
        Read r = new Read(first, count);
        reads.add(r);
        return r;
    }

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
        for (Read r : reads) {
            for (int s = Math.max(first, r.first); s < Math.min(first + count, r.first + r.count); s++) {
                r.seen[s - r.first] = with(r.seen[s - r.first], value);
                r.overlapped[s - r.first] = true;
            }
        }
    }

    /** The write or trim of the range ended; {@code ok}: acknowledged with success. */
    void end(int first, int count, boolean ok, boolean fua) {
        long mySeq = ++seq;
        for (int s = first; s < first + count; s++) {
            long v = inFlight[s];
            assert v != NONE : "end of a write not begun on sector " + s;
            inFlight[s] = NONE;
            if (ok && v != 0 && !(lost.get(s) && stickyLost.test(s))) {
                lost.clear(s);
                if (fua) {
                    lostDurable.clear(s);
                }
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
                if (!lost.get(s)) {
                    lostDurable.clear(s);
                }
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
        reads.clear();
        lost.clear();
        lost.or(lostDurable);
    }

    void setStickyLost(java.util.function.IntPredicate sticky) {
        this.stickyLost = sticky;
    }

    /** Sector {@code s} is lost to the write hole (class comment). */
    void lose(int s) {
        lost.set(s);
        lostDurable.set(s);
    }

    /** Whether sector {@code s} is lost; if so a wrong read of it is counted as such. */
    boolean countIfLost(int s) {
        if (lost.get(s)) {
            lostReads++;
            return true;
        }
        return false;
    }

    int lostSectors() {
        return lost.cardinality();
    }

    /** Reads of lost sectors that returned what no write put there (accepted: the write hole). */
    long lostReads() {
        return lostReads;
    }

    /** Every sector a write or trim is in flight on. */
    void forEachInFlight(java.util.function.IntConsumer each) {
        for (int s = 0; s < sectors; s++) {
            if (inFlight[s] != NONE) {
                each.accept(s);
            }
        }
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

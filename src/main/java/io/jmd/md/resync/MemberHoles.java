package io.jmd.md.resync;

import io.jmd.md.Member;

import java.util.ArrayList;

/**
 * Where a member's data area is a hole (reads as zeroes), for a sync reading from it: a hole is
 * written to the targets as zeroes (WRITE_ZEROES) instead of read and copied, so sparse members
 * stay sparse and an empty array rebuilds fast. Every level's sync uses it (raid1, raid10,
 * raid4/5/6).
 *
 * <p>Asking the device per window costs a walk to the next hole each time (SEEK_HOLE on tmpfs
 * walks the page cache: on a fully written member that is the whole rest of the file, every
 * window), so the extents from a window to the end of the range are asked for once and kept, at
 * most {@link #EXTENTS_KEPT_MAX} of them; a window outside what is kept (or on another member)
 * asks again from there. Only "data" is taken from what was kept: a hole may have been written
 * since, so a window the kept extents call a hole is asked about again by {@link #isHole}, once
 * its barrier keeps writes out (a cheap question for a hole). Member bytes count from the data
 * offset. Sync thread only.
 */
public final class MemberHoles {
    /** Extents kept from one device query: enough for a badly fragmented sparse member. */
    public static final int EXTENTS_KEPT_MAX = 4096;

    private final long endBytes;
    /** Hole extents [start, end), ascending, of {@link #of}, known over [from, to). */
    private final ArrayList<Long> extents = new ArrayList<>();
    private Member of;
    private long from;
    private long to;

    /** @param endBytes where the range ends (member bytes from the data offset) */
    public MemberHoles(long endBytes) {
        this.endBytes = endBytes;
    }

    /** Whether member bytes [s, e) of {@code m} are a hole reading as zeroes now. */
    public boolean isHole(Member m, long s, long e) {
        if (m != of || s < from || e > to) {
            load(m, s);
        }
        boolean kept = false;
        for (int i = 0; i < extents.size(); i += 2) {
            if (extents.get(i) <= s && e <= extents.get(i + 1)) {
                kept = true;
                break;
            }
            if (extents.get(i) >= e) {
                break;
            }
        }
        if (!kept) {
            return false;
        }
        boolean[] hole = {true};
        m.device().blockStatus(m.dataOffsetBytes() + s, e - s, (off, len, h, zero) -> hole[0] &= h && zero);
        return hole[0];
    }

    private void load(Member m, long start) {
        extents.clear();
        of = m;
        from = start;
        long[] kept = {endBytes};
        long base = m.dataOffsetBytes();
        m.device().blockStatus(base + start, Math.max(1, endBytes - start), (off, len, hole, zero) -> {
            if (extents.size() >= 2 * EXTENTS_KEPT_MAX) {
                kept[0] = Math.min(kept[0], off - base);
                return;
            }
            if (hole && zero) {
                long a = off - base;
                long b = a + len;
                int n = extents.size();
                if (n > 0 && extents.get(n - 1) == a) {
                    extents.set(n - 1, b);
                } else {
                    extents.add(a);
                    extents.add(b);
                }
            }
        });
        to = Math.max(kept[0], start + 1);
    }
}

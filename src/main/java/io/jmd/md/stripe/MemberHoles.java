package io.jmd.md.stripe;

import io.jmd.md.Member;

import java.util.ArrayList;

/**
 * Where one member's data area is a hole (reads as zeroes), for the sync: asked of the device once
 * for the rest of the range and kept (at most {@link #EXTENTS_KEPT_MAX} extents), since asking per
 * window costs a walk to the next hole each time (SEEK_HOLE on tmpfs walks the page cache: on a
 * fully written member that is the rest of the file, every window; raid1's sync does the same).
 * Only "data" is taken from what was kept: a hole may have been written since, so a window the
 * kept extents call a hole is asked about again by {@link #isHole}, once its barrier keeps writes
 * out (a cheap question for a hole). Sync thread only.
 */
final class MemberHoles {
    static final int EXTENTS_KEPT_MAX = 4096;

    private final long sizeBytes;
    /** Hole extents [start, end) in member bytes from the data offset, known over [from, to). */
    private final ArrayList<Long> extents = new ArrayList<>();
    private Member of;
    private long from;
    private long to;

    MemberHoles(long sizeBytes) {
        this.sizeBytes = sizeBytes;
    }

    /** Whether member bytes [s, e) of {@code m} are a hole now. */
    boolean isHole(Member m, long s, long e) {
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
        long[] kept = {sizeBytes};
        long base = m.dataOffsetBytes();
        m.device().blockStatus(base + start, sizeBytes - start, (off, len, hole, zero) -> {
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

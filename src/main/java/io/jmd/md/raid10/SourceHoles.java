package io.jmd.md.raid10;

import io.jmd.md.Member;

import java.util.ArrayList;

/**
 * Which ranges of one member are holes, for a resync or recovery reading from it: a hole is
 * written to the targets as zeroes (WRITE_ZEROES) instead of read and copied, so sparse members
 * stay sparse and an empty array rebuilds fast.
 *
 * <p>Asking the device per piece costs a walk to the next hole each time (SEEK_HOLE on tmpfs
 * walks the page cache: on a fully written member, the whole rest of the file, every piece), so
 * the extents from a piece to the member's end are asked for once and kept, at most
 * {@link #EXTENTS_KEPT_MAX} of them; a piece outside what is kept asks again from there. Only
 * "data" is taken from what was kept: a hole may have been written since, so a piece the kept
 * extents call a hole is asked about again, now that its window's barrier keeps writes out.
 * Member bytes are from the data offset. Sync thread only.
 */
final class SourceHoles {
    static final int EXTENTS_KEPT_MAX = 4096;

    private final Member member;
    private final long endBytes;
    /** Hole extents [start, end), ascending, known over [from, to). */
    private final ArrayList<Long> extents = new ArrayList<>();
    private long from = -1;
    private long to = -1;

    SourceHoles(Member member, long endBytes) {
        this.member = member;
        this.endBytes = endBytes;
    }

    Member member() {
        return member;
    }

    /** Whether member bytes [start, start + length) are a hole reading as zeroes now. */
    boolean isHole(long start, long length) {
        long end = start + length;
        if (start < from || end > to) {
            load(start);
        }
        boolean kept = false;
        for (int i = 0; i < extents.size(); i += 2) {
            if (extents.get(i) <= start && end <= extents.get(i + 1)) {
                kept = true;
                break;
            }
            if (extents.get(i) >= end) {
                break;
            }
        }
        if (!kept) {
            return false;
        }
        boolean[] all = {true};
        member.device().blockStatus(member.dataOffsetBytes() + start, length, (off, len, hole, zero) -> all[0] &= hole && zero);
        return all[0];
    }

    private void load(long start) {
        extents.clear();
        from = start;
        long[] kept = {endBytes};
        long base = member.dataOffsetBytes();
        member.device().blockStatus(base + start, Math.max(1, endBytes - start), (off, len, hole, zero) -> {
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

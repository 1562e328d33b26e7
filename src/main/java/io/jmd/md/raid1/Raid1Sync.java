package io.jmd.md.raid1;

import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.md.MdArray;
import io.jmd.md.Member;
import io.jmd.md.MemberState;
import io.jmd.md.resync.MemberHoles;
import io.jmd.md.resync.SyncAction;
import io.jmd.md.resync.SyncLevel;
import io.jmd.md.resync.SyncWindow;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * RAID1's part of a sync (raid1_sync_request), one window at a time, in stages:
 *
 * <pre>
 *   resync, recovery:  0 read the window from the first in-sync member (a hole on it: write
 *                        zeroes instead, keeping sparse members sparse)
 *                      1 read done: write it to the targets (resync: every other in-sync member;
 *                        recovery: the members being rebuilt); read failed: copy the window a
 *                        sector at a time, each sector from the first member that reads it, so
 *                        only unreadable sectors change source (fix_sync_read_error), and the
 *                        members that could not read one get it rewritten
 *                      2 a failed write fails its member
 *   check, repair:     0 read the window from every in-sync member
 *                      1 compare each with the first copy in 64 KiB units (md's resync block):
 *                        each differing unit adds its sectors to the mismatch count; repair writes
 *                        the first copy's unit over it; if some read failed, the window is copied
 *                        sector-wise as above instead (not compared)
 *                      2 as above
 * </pre>
 * A window no member reads whole is copied a sector at a time, each from any member that reads it
 * (synchronously: a rare path); if some sector reads nowhere the window fails and the sync stops.
 */
final class Raid1Sync implements SyncLevel {
    /** md's RESYNC_BLOCK_SIZE: the unit mismatches are counted in. */
    static final int COMPARE_UNIT_BYTES = 64 << 10;
    static final int PIECE_BYTES = 512;

    private final Raid1 raid1;
    private final MdArray array;
    /** Where the member the sync reads from is a hole (resync bytes = member bytes for raid1). */
    private final MemberHoles holes;

    Raid1Sync(Raid1 raid1, MdArray array) {
        this.raid1 = raid1;
        this.array = array;
        this.holes = new MemberHoles(raid1.sizeBytes());
    }

    @Override
    public long sizeBytes() {
        return raid1.sizeBytes();
    }

    @Override
    public int buffersPerWindow(SyncAction action) {
        return action.compares() ? raid1.slots().size() : 1;
    }

    @Override
    public boolean fullAfterSync(SyncWindow.Targets targets) {
        for (Member m : raid1.slots()) {
            boolean ok = m != null && (m.isInSync() || m.state() == MemberState.RECOVERING && targets.members().contains(m));
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean step(SyncWindow w) {
        return w.action().compares() ? compareStep(w) : copyStep(w);
    }

    private List<Member> inSync() {
        List<Member> out = new ArrayList<>();
        for (Member m : raid1.slots()) {
            if (m != null && m.isInSync()) {
                out.add(m);
            }
        }
        return out;
    }

    private List<Member> copyTargets(SyncWindow w, Member source) {
        List<Member> out = new ArrayList<>();
        if (w.action() == SyncAction.RECOVER) {
            for (Member m : w.targets().members()) {
                if (m.state() == MemberState.RECOVERING && m.recoveryOffsetBytes() < w.offsetBytes() + w.lengthBytes()) {
                    out.add(m);
                }
            }
        }
        for (Member m : inSync()) {
            boolean rewrite = (w.triedSlots & (1L << m.slot())) != 0; // piecewise: it may lack the sector
            if (m != source && (w.action() == SyncAction.RESYNC || rewrite)) {
                out.add(m);
            }
        }
        return out;
    }

    private boolean copyStep(SyncWindow w) {
        switch (w.stage) {
            case 0 -> {
                Member src = null;
                for (Member m : inSync()) {
                    if ((w.triedSlots & (1L << m.slot())) == 0) {
                        src = m;
                        break;
                    }
                }
                if (src == null) {
                    return true; // no member in sync: nothing to copy from
                }
                List<Member> targets = copyTargets(w, src);
                if (targets.isEmpty()) {
                    return true;
                }
                w.sourceSlot = src.slot();
                if (holes.isHole(src, w.offsetBytes(), w.offsetBytes() + w.lengthBytes())) {
                    w.stage = 2;
                    for (Member t : targets) {
                        w.submit(t, Bio.Op.WRITE_ZEROES, t.dataOffsetBytes() + w.offsetBytes(), w.lengthBytes(), null);
                    }
                    return false;
                }
                w.stage = 1;
                w.submit(src, Bio.Op.READ, src.dataOffsetBytes() + w.offsetBytes(), w.lengthBytes(), w.buffer(0));
                return false;
            }
            case 1 -> {
                Member src = w.ioMember(0);
                if (w.ioStatus(0) != Errno.OK) {
                    // md's fix_sync_read_error: only the sectors the first member cannot read come
                    // from another one; the rest stays the first member's (a client may have read it)
                    src.countReadError();
                    return copyPiecewise(w);
                }
                w.stage = 2;
                List<Member> targets = copyTargets(w, src);
                for (Member t : targets) {
                    w.submit(t, Bio.Op.WRITE, t.dataOffsetBytes() + w.offsetBytes(), w.lengthBytes(), w.buffer(0));
                }
                return targets.isEmpty();
            }
            default -> {
                failWriters(w);
                return true;
            }
        }
    }

    private boolean compareStep(SyncWindow w) {
        switch (w.stage) {
            case 0 -> {
                List<Member> members = inSync();
                if (members.size() < 2) {
                    return true; // nothing to compare
                }
                w.stage = 1;
                for (int i = 0; i < members.size(); i++) {
                    Member m = members.get(i);
                    w.submit(m, Bio.Op.READ, m.dataOffsetBytes() + w.offsetBytes(), w.lengthBytes(), w.buffer(i));
                }
                return false;
            }
            case 1 -> {
                int reads = w.ios();
                int ref = -1;
                for (int i = 0; i < reads; i++) {
                    if (w.ioStatus(i) == Errno.OK) {
                        ref = i;
                        break;
                    }
                }
                if (ref < 0 || anyFailed(w, reads)) {
                    // a member could not read the window: its unreadable sectors are rewritten from
                    // the others (first member first); this window is not compared
                    for (int i = 0; i < reads; i++) {
                        if (w.ioStatus(i) != Errno.OK) {
                            w.ioMember(i).countReadError();
                        }
                    }
                    return copyPiecewise(w);
                }
                Member[] readFrom = new Member[reads];
                for (int i = 0; i < reads; i++) {
                    readFrom[i] = w.ioMember(i);
                }
                w.stage = 2;
                MemorySegment good = w.buffer(ref);
                int submitted = 0;
                for (int i = 0; i < reads; i++) {
                    if (i == ref) {
                        continue;
                    }
                    submitted += compareUnits(w, good, w.buffer(i), readFrom[i]);
                }
                return submitted == 0;
            }
            default -> {
                failWriters(w);
                return true;
            }
        }
    }

    private static boolean anyFailed(SyncWindow w, int reads) {
        for (int i = 0; i < reads; i++) {
            if (w.ioStatus(i) != Errno.OK) {
                return true;
            }
        }
        return false;
    }

    /** Counts differing units between {@code good} and {@code other}; repair rewrites them. */
    private int compareUnits(SyncWindow w, MemorySegment good, MemorySegment other, Member m) {
        int submitted = 0;
        for (long at = 0; at < w.lengthBytes(); at += COMPARE_UNIT_BYTES) {
            long len = Math.min(COMPARE_UNIT_BYTES, w.lengthBytes() - at);
            MemorySegment a = good.asSlice(at, len);
            if (a.mismatch(other.asSlice(at, len)) < 0) {
                continue;
            }
            w.mismatchSectors += len / 512;
            if (w.action() == SyncAction.REPAIR) {
                w.submit(m, Bio.Op.WRITE, m.dataOffsetBytes() + w.offsetBytes() + at, len, a);
                submitted++;
            }
        }
        return submitted;
    }

    /** A member that failed a sync write is failed (md_error), unless it is the last one. */
    private void failWriters(SyncWindow w) {
        for (int i = 0; i < w.ios(); i++) {
            if (w.ioStatus(i) != Errno.OK) {
                Member m = w.ioMember(i);
                m.countWriteError();
                array.memberError(m);
            }
        }
    }

    /**
     * A member could not read the window whole: copies it a sector at a time, each from the first
     * member (in slot order) that reads it, to every other in-sync member and the recovery targets
     * (synchronous; a rare path), as fix_sync_read_error. Fails the window if some sector reads
     * nowhere.
     */
    private boolean copyPiecewise(SyncWindow w) {
        List<Member> sources = inSync();
        MemorySegment buf = w.buffer(0);
        for (long at = 0; at < w.lengthBytes(); at += PIECE_BYTES) {
            MemorySegment piece = buf.asSlice(at, PIECE_BYTES);
            Member from = null;
            for (Member m : sources) {
                if (SyncIo.read(array.env().scheduler(), m.device(), m.dataOffsetBytes() + w.offsetBytes() + at, piece) == Errno.OK) {
                    from = m;
                    break;
                }
            }
            if (from == null) {
                w.failed = true;
                w.failureReason = "no member can read array bytes " + (w.offsetBytes() + at) + "+" + PIECE_BYTES;
                return true;
            }
            w.triedSlots = ~0L; // every in-sync member is a rewrite target of its unreadable sectors
            for (Member t : copyTargets(w, from)) {
                int st = SyncIo.write(array.env().scheduler(), t.device(), t.dataOffsetBytes() + w.offsetBytes() + at, piece, 0);
                if (st != Errno.OK) {
                    t.countWriteError();
                    array.memberError(t);
                }
            }
        }
        return true;
    }
}

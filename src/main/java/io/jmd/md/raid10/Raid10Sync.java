package io.jmd.md.raid10;

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
import java.util.IdentityHashMap;

/**
 * RAID10's part of a sync (raid10_sync_request), one window at a time.
 *
 * <h2>Address space</h2>
 * Every action walks the array's own bytes, as md's bitmap for raid10 does (it covers the array's
 * sectors): resync, check and repair as md; recovery too, where md walks the recovering member's
 * sectors and maps each back (raid10_find_virt). One address space keeps bitmap chunks, barrier
 * units and windows the same for every action, so a re-add recovery skips the clean bitmap
 * chunks as a resync does. The member's recovery_offset stays md's (its own sectors):
 * {@link Raid10Geometry#recoveredMemberSectors} and {@link Raid10Geometry#recoveryResumeSectors}
 * convert, conservatively both ways (a far layout, whose far copies of the array's start lie in
 * the member's second half, resumes from the array's start).
 *
 * <h2>A window</h2>
 * A window is cut into pieces at chunk boundaries; each piece has its copies (near x far, placed
 * by {@link Raid10Geometry}). Pieces go in batches of at most {@link SyncWindow#IOS_MAX} I/Os:
 * <pre>
 *   resync, recovery:  read the piece from its first in-sync copy (the copy reads come from while
 *                      a resync has not passed: see MappedPersonality's read choice), write it to
 *                      the other in-sync copies (resync) or to the copies on the members being
 *                      rebuilt that lie at or above their recovery_offset (recovery); a piece that
 *                      is a hole on its source is written as zeroes instead ({@link MemberHoles}:
 *                      sparse members stay sparse)
 *   check, repair:     read every in-sync copy; compare each with the first in 64 KiB units (md's
 *                      resync block): each differing unit adds its sectors to the mismatch count;
 *                      repair writes the first copy over it
 *   a read failed:     the piece is copied a sector at a time, each sector from the first copy
 *                      that reads it, rewriting the copies that could not (fix_sync_read_error);
 *                      a sector no copy reads fails the window and the sync stops
 *   a write failed:    its member is failed (md_error)
 * </pre>
 */
final class Raid10Sync implements SyncLevel {
    /** md's RESYNC_BLOCK_SIZE: the unit mismatches are counted in. */
    static final int COMPARE_UNIT_BYTES = 64 << 10;
    static final int PIECE_BYTES = 512;

    private static final int FRESH = 0;
    private static final int READING = 1;
    private static final int WRITING = 2;
    private static final int BATCH_DONE = 3;
    /** A first-stage I/O that wrote zeroes to a target (its source piece was a hole), not a read. */
    private static final int ZEROED = -1;

    private final Raid10 r10;
    private final MdArray array;
    private final Raid10Geometry g;
    private final long chunkBytes;
    /** Each window's batch; removed when the window is finished. Sync thread only. */
    private final IdentityHashMap<SyncWindow, Batch> batches = new IdentityHashMap<>();
    /** Holes of each slot's member as a copy source (resync, recovery). Sync thread only. */
    private final MemberHoles[] holes;

    /** The pieces of a window in flight: which piece and copy each read of the batch is. */
    private static final class Batch {
        int next;
        int reads;
        final int[] ioPiece = new int[SyncWindow.IOS_MAX];
        final int[] ioCopy = new int[SyncWindow.IOS_MAX];
    }

    Raid10Sync(Raid10 r10, MdArray array) {
        this.r10 = r10;
        this.array = array;
        this.g = r10.geometry();
        this.chunkBytes = (long) g.chunkSectors() * 512;
        this.holes = new MemberHoles[g.raidDisks()];
        for (int d = 0; d < holes.length; d++) {
            holes[d] = new MemberHoles(g.devSectors() * 512);
        }
    }

    @Override
    public long sizeBytes() {
        return r10.sizeBytes();
    }

    @Override
    public int buffersPerWindow(SyncAction action) {
        return action.compares() ? g.copies() : 1;
    }

    @Override
    public boolean fullAfterSync(SyncWindow.Targets targets) {
        for (int d = 0; d < g.raidDisks(); d++) {
            Member m = r10.slot(d);
            boolean ok = m != null && (m.isInSync() || m.state() == MemberState.RECOVERING && targets.members().contains(m));
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    // ---- pieces ----

    private int pieces(SyncWindow w) {
        long first = w.offsetBytes() / chunkBytes;
        long last = (w.offsetBytes() + w.lengthBytes() - 1) / chunkBytes;
        return (int) (last - first + 1);
    }

    private long pieceStart(SyncWindow w, int i) {
        return i == 0 ? w.offsetBytes() : (w.offsetBytes() / chunkBytes + i) * chunkBytes;
    }

    private long pieceLength(SyncWindow w, int i) {
        long s = pieceStart(w, i);
        return Math.min((s / chunkBytes + 1) * chunkBytes, w.offsetBytes() + w.lengthBytes()) - s;
    }

    /** Whether the piece of {@code len} bytes at copy {@code c} is a hole on its member now. */
    private boolean isHole(Raid10Geometry.Copy c, long len) {
        long s = c.sector() * 512;
        return holes[c.device()].isHole(r10.slot(c.device()), s, s + len);
    }

    private Member inSyncAt(Raid10Geometry.Copy c) {
        Member m = r10.slot(c.device());
        return m != null && m.isInSync() ? m : null;
    }

    private static long deviceOffset(Member m, Raid10Geometry.Copy c) {
        return m.dataOffsetBytes() + c.sector() * 512;
    }

    /** The first in-sync copy, or -1. */
    private int sourceCopy(Raid10Geometry.Copy[] copies) {
        for (int c = 0; c < copies.length; c++) {
            if (inSyncAt(copies[c]) != null) {
                return c;
            }
        }
        return -1;
    }

    /** The member copy {@code c} of a piece of {@code len} bytes is written to by a resync/recovery from {@code src}, or null. */
    private Member copyTarget(SyncWindow w, Raid10Geometry.Copy[] copies, int c, int src, long len) {
        if (c == src) {
            return null;
        }
        Member m = r10.slot(copies[c].device());
        if (m == null) {
            return null;
        }
        if (w.action() == SyncAction.RESYNC) {
            return m.isInSync() ? m : null;
        }
        boolean rebuilding = m.state() == MemberState.RECOVERING && w.targets().members().contains(m);
        return rebuilding && copies[c].sector() * 512 + len > m.recoveryOffsetBytes() ? m : null;
    }

    // ---- steps ----

    @Override
    public boolean step(SyncWindow w) {
        Batch b = batches.computeIfAbsent(w, x -> new Batch());
        while (true) {
            switch (w.stage) {
                case FRESH -> b.next = 0;
                case READING -> {
                    boolean wrote = w.action().compares() ? compareBatch(w, b) : writeBatch(w, b);
                    if (wrote) {
                        w.stage = WRITING;
                        return false;
                    }
                    if (w.failed) {
                        batches.remove(w);
                        return true;
                    }
                    w.stage = BATCH_DONE;
                    continue;
                }
                case WRITING -> {
                    failWriters(w);
                    if (w.failed) {
                        batches.remove(w);
                        return true;
                    }
                }
                default -> {
                }
            }
            if (!startBatch(w, b)) {
                batches.remove(w);
                return true;
            }
            w.stage = READING;
            return false;
        }
    }

    /** Submits the reads of the next pieces that need any; false when none is left. */
    private boolean startBatch(SyncWindow w, Batch b) {
        boolean compares = w.action().compares();
        int n = pieces(w);
        int reads = 0;
        int writes = 0;
        b.reads = 0;
        while (b.next < n) {
            int p = b.next;
            long at = pieceStart(w, p);
            long len = pieceLength(w, p);
            Raid10Geometry.Copy[] copies = g.copiesOf(at / 512);
            int src = sourceCopy(copies);
            if (src < 0) {
                b.next++;
                continue; // no copy in sync: nothing to read from (the array would not run)
            }
            int needReads = 0;
            int maxWrites = 0;
            boolean hole = false;
            if (compares) {
                for (Raid10Geometry.Copy c : copies) {
                    needReads += inSyncAt(c) != null ? 1 : 0;
                }
                maxWrites = needReads < 2 ? 0 : (needReads - 1) * (int) Math.ceilDiv(len, COMPARE_UNIT_BYTES);
                if (needReads < 2) {
                    needReads = 0; // nothing to compare
                }
            } else {
                for (int c = 0; c < copies.length; c++) {
                    maxWrites += copyTarget(w, copies, c, src, len) != null ? 1 : 0;
                }
                needReads = maxWrites == 0 ? 0 : 1;
                if (needReads > 0 && isHole(copies[src], len)) {
                    needReads = maxWrites; // zeroes to each target, at once
                    maxWrites = 0;
                    hole = true;
                }
            }
            if (needReads == 0) {
                b.next++;
                continue;
            }
            if (reads + needReads > SyncWindow.IOS_MAX || writes + maxWrites > SyncWindow.IOS_MAX) {
                break; // the next batch takes it
            }
            b.next++;
            reads += needReads;
            writes += maxWrites;
            long within = at - w.offsetBytes();
            if (hole) {
                for (int c = 0; c < copies.length; c++) {
                    Member t = copyTarget(w, copies, c, src, len);
                    if (t != null) {
                        b.ioPiece[b.reads] = p;
                        b.ioCopy[b.reads] = ZEROED;
                        b.reads++;
                        w.submit(t, Bio.Op.WRITE_ZEROES, deviceOffset(t, copies[c]), len, null);
                    }
                }
                continue;
            }
            for (int c = 0; c < copies.length; c++) {
                Member m = inSyncAt(copies[c]);
                if (m == null || !compares && c != src) {
                    continue;
                }
                b.ioPiece[b.reads] = p;
                b.ioCopy[b.reads] = c;
                b.reads++;
                w.submit(m, Bio.Op.READ, deviceOffset(m, copies[c]), len, w.buffer(compares ? c : 0).asSlice(within, len));
            }
        }
        return b.reads > 0;
    }

    /** Resync/recovery: the reads ended; writes each piece to its targets. True if any was submitted. */
    private boolean writeBatch(SyncWindow w, Batch b) {
        int reads = b.reads;
        int[] status = new int[reads];
        Member[] readFrom = new Member[reads];
        for (int i = 0; i < reads; i++) {
            status[i] = w.ioStatus(i);
            readFrom[i] = w.ioMember(i);
        }
        boolean submitted = false;
        for (int i = 0; i < reads; i++) {
            if (b.ioCopy[i] == ZEROED) {
                if (status[i] != Errno.OK) {
                    readFrom[i].countWriteError();
                    array.memberError(readFrom[i]);
                }
                continue;
            }
            int p = b.ioPiece[i];
            long at = pieceStart(w, p);
            long len = pieceLength(w, p);
            Raid10Geometry.Copy[] copies = g.copiesOf(at / 512);
            if (status[i] != Errno.OK) {
                readFrom[i].countReadError();
                if (!copyPiecewise(w, p, copies)) {
                    return submitted;
                }
                continue;
            }
            MemorySegment data = w.buffer(0).asSlice(at - w.offsetBytes(), len);
            int src = b.ioCopy[i];
            for (int c = 0; c < copies.length; c++) {
                Member t = copyTarget(w, copies, c, src, len);
                if (t != null) {
                    w.submit(t, Bio.Op.WRITE, deviceOffset(t, copies[c]), len, data);
                    submitted = true;
                }
            }
        }
        return submitted;
    }

    /** Check/repair: the reads ended; compares each piece's copies. True if a repair write was submitted. */
    private boolean compareBatch(SyncWindow w, Batch b) {
        int reads = b.reads;
        int[] status = new int[reads];
        Member[] readFrom = new Member[reads];
        for (int i = 0; i < reads; i++) {
            status[i] = w.ioStatus(i);
            readFrom[i] = w.ioMember(i);
        }
        boolean submitted = false;
        for (int i = 0; i < reads; ) {
            int p = b.ioPiece[i];
            int end = i;
            boolean anyFailed = false;
            while (end < reads && b.ioPiece[end] == p) {
                if (status[end] != Errno.OK) {
                    anyFailed = true;
                    readFrom[end].countReadError();
                }
                end++;
            }
            long at = pieceStart(w, p);
            long len = pieceLength(w, p);
            long within = at - w.offsetBytes();
            if (anyFailed) {
                // some copy could not read the piece: its unreadable sectors are rewritten from the
                // others; this piece is not compared
                if (!copyPiecewise(w, p, g.copiesOf(at / 512))) {
                    return submitted;
                }
            } else {
                MemorySegment good = w.buffer(b.ioCopy[i]).asSlice(within, len);
                for (int k = i + 1; k < end; k++) {
                    MemorySegment other = w.buffer(b.ioCopy[k]).asSlice(within, len);
                    submitted |= compareUnits(w, good, other, readFrom[k], g.copiesOf(at / 512)[b.ioCopy[k]], len);
                }
            }
            i = end;
        }
        return submitted;
    }

    /** Counts differing units of one copy; repair rewrites them. True if a write was submitted. */
    private boolean compareUnits(SyncWindow w, MemorySegment good, MemorySegment other, Member m, Raid10Geometry.Copy copy,
                                 long len) {
        boolean submitted = false;
        for (long at = 0; at < len; at += COMPARE_UNIT_BYTES) {
            long n = Math.min(COMPARE_UNIT_BYTES, len - at);
            MemorySegment a = good.asSlice(at, n);
            if (a.mismatch(other.asSlice(at, n)) < 0) {
                continue;
            }
            w.mismatchSectors += n / 512;
            if (w.action() == SyncAction.REPAIR) {
                w.submit(m, Bio.Op.WRITE, deviceOffset(m, copy) + at, n, a);
                submitted = true;
            }
        }
        return submitted;
    }

    /** A member that failed a sync write is failed (md_error), unless it holds the last copy of something. */
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
     * Piece {@code p} could not be read whole from some copy: copies it a sector at a time, each
     * from the first in-sync copy that reads it, to the copies that could not read it and to the
     * piece's resync/recovery targets (synchronous: a rare path), as fix_sync_read_error. False
     * (the window failed) if some sector reads nowhere.
     */
    private boolean copyPiecewise(SyncWindow w, int p, Raid10Geometry.Copy[] copies) {
        long at = pieceStart(w, p);
        long len = pieceLength(w, p);
        MemorySegment buf = w.buffer(0).asSlice(at - w.offsetBytes(), len);
        var scheduler = array.env().scheduler();
        for (long s = 0; s < len; s += PIECE_BYTES) {
            MemorySegment sector = buf.asSlice(s, PIECE_BYTES);
            int from = -1;
            long failedCopies = 0;
            for (int c = 0; c < copies.length; c++) {
                Member m = inSyncAt(copies[c]);
                if (m == null) {
                    continue;
                }
                if (SyncIo.read(scheduler, m.device(), deviceOffset(m, copies[c]) + s, sector) == Errno.OK) {
                    from = c;
                    break;
                }
                failedCopies |= 1L << c;
            }
            if (from < 0) {
                w.failed = true;
                w.failureReason = "no copy can read array bytes " + (at + s) + "+" + PIECE_BYTES;
                return false;
            }
            for (int c = 0; c < copies.length; c++) {
                Member t = (failedCopies & (1L << c)) != 0 ? inSyncAt(copies[c])
                    : w.action().compares() ? null : copyTarget(w, copies, c, from, len);
                if (t == null) {
                    continue;
                }
                if (SyncIo.write(scheduler, t.device(), deviceOffset(t, copies[c]) + s, sector, 0) != Errno.OK) {
                    t.countWriteError();
                    array.memberError(t);
                }
            }
        }
        return true;
    }

    // ---- recovery_offset and progress: member sectors (md) <-> array bytes (this sync) ----

    /**
     * md counts a raid10 recovery in member sectors: md_do_sync's max_sectors is dev_sectors and
     * raid10_sync_request walks the recovering members' own sectors; a resync, check or repair
     * walks the array (max_sectors = resync_max_sectors = raid10_size), as this sync does for
     * every action. So a recovery's position and speed are scaled from array bytes to member
     * bytes, dev_sectors over the array's sectors: each array byte done has its copies written,
     * and the whole array done is the whole member (md's 'recovery = x% (done/total)' with total
     * dev_sectors / 2 blocks).
     */
    @Override
    public long progressBytes(SyncAction action, long syncBytes) {
        if (action != SyncAction.RECOVER || syncBytes <= 0) {
            return syncBytes;
        }
        return java.math.BigInteger.valueOf(syncBytes).multiply(java.math.BigInteger.valueOf(g.devSectors()))
            .divide(java.math.BigInteger.valueOf(g.arraySectors())).longValueExact();
    }

    @Override
    public long recoveredMemberBytes(Member m, long doneBytes) {
        return g.recoveredMemberSectors(m.slot(), doneBytes / 512) * 512;
    }

    @Override
    public long recoveryResumeBytes(Member m, long recoveryOffsetBytes) {
        return g.recoveryResumeSectors(m.slot(), recoveryOffsetBytes / 512) * 512;
    }
}

package io.jmd.md.stripe;

import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.md.Member;
import io.jmd.md.MemberState;
import io.jmd.md.resync.MemberHoles;
import io.jmd.md.resync.SyncAction;
import io.jmd.md.resync.SyncLevel;
import io.jmd.md.resync.SyncWindow;

import java.lang.foreign.MemorySegment;

/**
 * RAID4/5/6's part of a sync (raid5_sync_request + handle_parity_checks5/6), a window of member
 * bytes at a time. md's resync address space for these levels is per-member sectors: recovery_cp,
 * the bitmap's chunks and recovery_offset all count member bytes from the data offset, and a
 * window is the same member range on every member (whole or partial rows of chunks).
 *
 * <pre>
 *   stage 0  read the window from every member in sync there (in sync, or rebuilt past the window;
 *            md: every block of the stripe that analyse_stripe counts in sync); a window
 *            that is a hole on all of them is not read: zeroes are consistent, and a recovery
 *            writes zeroes to its targets (MemberHoles)
 *   stage 1  a member whose window read failed is read again in pieces of a page or more (stage 3,
 *            then on as stage 1): only the pieces it cannot read count as lost, as md handles a
 *            read error per stripe (page) (see {@link #retryStage})
 *            per row piece and page: lost = members not read (missing, rebuilding, or the read of
 *              that page failed); more lost than the parity covers: the window fails (recovery)
 *              or is skipped (resync/check/repair of an array with no redundancy left, as md skips it)
 *            rebuild the lost blocks from the others (RowMath)
 *            resync, check, repair: with redundancy left, compute the parity not used by the
 *              rebuild (raid5: P; raid6: P and Q, or the one left) and compare it page by page;
 *              each differing 4 KiB column adds 8 sectors to the mismatch count (md counts
 *              STRIPE_SECTORS per stripe, P or Q); resync and repair write the computed parity
 *              over the differing pages, check writes nothing
 *            writes: the rebuilt window to every recovery target; the rebuilt blocks to every
 *              in-sync member whose read failed (md's R5_ReadError -&gt; R5_ReWrite)
 *   stage 2  a failed write fails its member; parity rewritten: the stripe cache forgets those
 *            stripes (see below)
 * </pre>
 *
 * <h2>Why windows and the sync barrier, not the stripe cache</h2>
 * md runs its sync through the stripe cache (STRIPE_SYNC_REQUESTED), which serializes it with
 * normal writes per stripe. jmd runs it as raid1 does, through {@link SyncWindow} buffers and the
 * {@link io.jmd.md.resync.SyncBarrier}: a window starts only when no normal write to its region is
 * in flight, and no normal write to it starts until the window ends (MdArray maps each write to the
 * member range it touches, parity included: {@link #syncStartBytes}). This keeps the sync out of the
 * stripe machine and its threads (they need not know about it), reads and writes each member in
 * large sequential pieces instead of 64 KiB stripe units, and takes no stripes away from normal I/O.
 * <p>The stripe cache stays right: in-sync data blocks are never changed by a sync, rebuilt blocks
 * get the same content the cache would compute, and only parity that differed from its data is
 * rewritten; a stripe cached with the old parity then forgets its pages ({@link StripeCache#forget}).
 * Members being rebuilt get normal writes (the stripe machine writes every member that is not
 * faulty) and, as md's analyse_stripe has it, serve reads below their recovery checkpoint: normal
 * reads and writes' reads ({@link StripeEngine#failedMembers(long)}) and a sync's window reads
 * (stage 0 reads them where the window lies wholly below it).
 */
final class StripeSync implements SyncLevel {
    private final StripeEngine engine;
    private final StripeGeometry geometry;
    private final int members;
    private final int maxDegraded;
    private final RowMath math;
    private final MemorySegment[] byMember;
    /** I/Os the running step submitted (sync thread only; a step runs to its end before another). */
    private int submitted;
    /** Per slot: where its member reads as zeroes (a window that is a hole on every member is not read). */
    private final MemberHoles[] holes;
    /** Per page of the window being computed: the members whose read of it failed (sync thread only). */
    private long[] pageLost = new long[0];

    StripeSync(StripeEngine engine) {
        this.engine = engine;
        this.geometry = engine.geometry;
        this.members = geometry.raidDisks();
        this.maxDegraded = engine.layout.maxDegraded();
        this.math = new RowMath(engine.kernels, members);
        this.byMember = new MemorySegment[members];
        this.holes = new MemberHoles[members];
        for (int s = 0; s < members; s++) {
            holes[s] = new MemberHoles(geometry.memberBytes());
        }
    }

    @Override
    public long sizeBytes() {
        return geometry.memberBytes();
    }

    @Override
    public int buffersPerWindow(SyncAction action) {
        return members + 2; // one per member, and the computed P and Q
    }

    /**
     * The member bytes a write of array bytes from {@code arrayBytes} can touch start here: the
     * column of its first byte, or the row's first column when the write goes on past its chunk
     * into another chunk of the same row (those columns start at the row's start).
     */
    @Override
    public long syncStartBytes(long arrayBytes) {
        long c = geometry.chunkBytes();
        long chunk = arrayBytes / c;
        long row = chunk / geometry.dataDisks();
        boolean lastInRow = chunk % geometry.dataDisks() == geometry.dataDisks() - 1;
        return row * c + (lastInRow ? arrayBytes % c : 0);
    }

    /** The mirror of {@link #syncStartBytes}: the end column of the last byte, or the row's end. */
    @Override
    public long syncEndBytes(long arrayEndBytes) {
        long c = geometry.chunkBytes();
        long last = arrayEndBytes - 1;
        long chunk = last / c;
        long row = chunk / geometry.dataDisks();
        boolean firstInRow = chunk % geometry.dataDisks() == 0;
        return row * c + (firstInRow ? last % c + 1 : c);
    }

    @Override
    public boolean fullAfterSync(SyncWindow.Targets targets) {
        for (int s = 0; s < members; s++) {
            Member m = engine.member(s);
            boolean ok = m != null && (m.isInSync() || m.state() == MemberState.RECOVERING && targets.members().contains(m));
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean step(SyncWindow w) {
        return switch (w.stage) {
            case 0 -> readStage(w);
            case 1 -> readsEnded(w);
            case 3 -> computeStage(w, true);
            default -> writesEnded(w);
        };
    }

    private long windowEnd(SyncWindow w) {
        return w.offsetBytes() + w.lengthBytes();
    }

    /** Recovery targets that still need this window. */
    private long targetsOf(SyncWindow w) {
        long out = 0;
        if (w.action() != SyncAction.RECOVER) {
            return 0;
        }
        for (Member t : w.targets().members()) {
            int s = t.slot();
            if (t.state() == MemberState.RECOVERING && s >= 0 && s < members && engine.member(s) == t
                && t.recoveryOffsetBytes() < windowEnd(w)) {
                out |= 1L << s;
            }
        }
        return out;
    }

    private boolean readStage(SyncWindow w) {
        long readable = 0;
        for (int s = 0; s < members; s++) {
            Member m = engine.member(s);
            if (m != null && (m.isInSync() || StripeEngine.rebuiltUpTo(m, windowEnd(w)))) {
                readable |= 1L << s; // a member rebuilt past the window holds its data (not a target here: targetsOf)
            }
        }
        int unreadable = members - Long.bitCount(readable);
        if (w.action() == SyncAction.RECOVER) {
            if (targetsOf(w) == 0) {
                return true; // every target is past this window already
            }
            if (unreadable > maxDegraded) {
                return fail(w, "too few members in sync to rebuild member bytes " + w.offsetBytes());
            }
        } else if (unreadable >= maxDegraded) {
            return true; // no redundancy left to check or make consistent (md skips the whole sync)
        }
        if (holeOnEvery(w, readable)) {
            // zeroes everywhere: their parity is zeroes (nothing to check or fix), and so is every
            // block a recovery rebuilds from them; targets get zeroes written (a sparse spare stays sparse)
            long targets = targetsOf(w);
            if (targets == 0) {
                return true;
            }
            w.stage = 2;
            for (int s = 0; s < members; s++) {
                if ((targets & (1L << s)) != 0) {
                    Member t = engine.member(s);
                    w.submit(t, Bio.Op.WRITE_ZEROES, t.dataOffsetBytes() + w.offsetBytes(), w.lengthBytes(), null);
                }
            }
            return false;
        }
        w.stage = 1;
        w.triedSlots = readable;
        for (int s = 0; s < members; s++) {
            if ((readable & (1L << s)) != 0) {
                Member m = engine.member(s);
                w.submit(m, Bio.Op.READ, m.dataOffsetBytes() + w.offsetBytes(), w.lengthBytes(), w.buffer(s));
            }
        }
        return false;
    }

    private boolean holeOnEvery(SyncWindow w, long readable) {
        if (readable == 0) {
            return false;
        }
        for (int s = 0; s < members; s++) {
            if ((readable & (1L << s)) != 0 && !holes[s].isHole(engine.member(s), w.offsetBytes(), windowEnd(w))) {
                return false;
            }
        }
        return true;
    }

    private static boolean fail(SyncWindow w, String why) {
        w.failed = true;
        w.failureReason = why;
        return true;
    }

    /**
     * The window's reads ended. A member whose read failed is read again in pieces (a page, or
     * more when the window has too many pages for one step's I/O): a bad sector then costs the
     * rebuild of its piece only. Rebuilding the member's whole window from parity instead would,
     * in a resync after a crash, overwrite data it reads fine with what parity that does not match
     * it yet says (found by the simulator: {@code jmd sim --seed 29 --ops 1500 --level raid5}, a
     * latent error elsewhere in the window put another block's data in its place).
     */
    private boolean readsEnded(SyncWindow w) {
        long failed = 0;
        int slot = -1;
        for (int i = 0; i < w.ios(); i++) {
            slot = nextSlot(w.triedSlots, slot);
            if (w.ioStatus(i) != Errno.OK) {
                failed |= 1L << slot;
                engine.readFailed(w.ioMember(i));
            } else if (w.ioMember(i) != null) {
                w.ioMember(i).readSucceeded();
            }
        }
        long piece = retryPieceBytes(w);
        if (failed == 0 || piece >= w.lengthBytes()) {
            return computeStage(w, false);
        }
        w.stage = 3;
        w.retriedSlots = failed;
        for (int s = 0; s < members; s++) {
            if ((failed & (1L << s)) != 0) {
                Member m = engine.member(s);
                for (long at = 0; at < w.lengthBytes(); at += piece) {
                    long len = Math.min(piece, w.lengthBytes() - at);
                    w.submit(m, Bio.Op.READ, m.dataOffsetBytes() + w.offsetBytes() + at, len, w.buffer(s).asSlice(at, len));
                }
            }
        }
        return false;
    }

    /** Size of the pieces a failed read is retried in: a page, or more to stay within a step's I/O. */
    private long retryPieceBytes(SyncWindow w) {
        long page = StripeGeometry.PAGE_BYTES;
        long pieces = Math.max(1, SyncWindow.IOS_MAX / members);
        return Math.max(page, Math.ceilDiv(Math.ceilDiv(w.lengthBytes(), pieces), page) * page);
    }

    /**
     * Rebuilds what was lost and checks or rewrites parity. {@code retried}: the last stage read
     * the members of {@link SyncWindow#retriedSlots} again in pieces (the window's reads of the
     * others were fine); else it read every member of {@link SyncWindow#triedSlots} whole.
     */
    private boolean computeStage(SyncWindow w, boolean retried) {
        long readOk = 0;
        long readFailed = 0;
        Member[] failedMember = new Member[members];
        int pages = (int) Math.ceilDiv(w.lengthBytes(), StripeGeometry.PAGE_BYTES);
        if (pageLost.length < pages) {
            pageLost = new long[pages];
        }
        java.util.Arrays.fill(pageLost, 0, pages, 0L);
        if (retried) {
            readOk = w.triedSlots & ~w.retriedSlots;
            long piece = retryPieceBytes(w);
            int slot = -1;
            long at = w.lengthBytes();
            for (int i = 0; i < w.ios(); i++) {
                if (at >= w.lengthBytes()) {
                    slot = nextSlot(w.retriedSlots, slot);
                    at = 0;
                    readOk |= 1L << slot; // read, but for its failed pieces (pageLost)
                }
                if (w.ioStatus(i) != Errno.OK) {
                    readFailed |= 1L << slot;
                    failedMember[slot] = w.ioMember(i);
                    long end = Math.min(w.lengthBytes(), at + piece);
                    for (long p = at; p < end; p += StripeGeometry.PAGE_BYTES) {
                        pageLost[(int) (p / StripeGeometry.PAGE_BYTES)] |= 1L << slot;
                    }
                }
                at += piece;
            }
        } else {
            // the i-th read was of the i-th slot set in triedSlots
            int slot = -1;
            for (int i = 0; i < w.ios(); i++) {
                slot = nextSlot(w.triedSlots, slot);
                if (w.ioStatus(i) == Errno.OK) {
                    readOk |= 1L << slot;
                } else {
                    readFailed |= 1L << slot;
                    failedMember[slot] = w.ioMember(i);
                    for (int p = 0; p < pages; p++) {
                        pageLost[p] |= 1L << slot;
                    }
                }
            }
        }
        long all = members == 64 ? -1L : (1L << members) - 1;
        long notRead = all & ~readOk;
        for (int p = 0; p < pages; p++) {
            pageLost[p] |= notRead;
            if (Long.bitCount(pageLost[p]) > maxDegraded) {
                return fail(w, "no redundancy left to rebuild member bytes " + (w.offsetBytes() + (long) p * StripeGeometry.PAGE_BYTES)
                    + "+" + StripeGeometry.PAGE_BYTES + " (" + Long.bitCount(pageLost[p]) + " members could not be read)");
            }
        }
        for (int s = 0; s < members; s++) {
            byMember[s] = w.buffer(s);
        }
        MemorySegment wantP = w.buffer(members);
        MemorySegment wantQ = w.buffer(members + 1);
        boolean writesParity = w.action() == SyncAction.RESYNC || w.action() == SyncAction.REPAIR;
        long c = geometry.chunkBytes();
        long o = w.offsetBytes();
        long end = windowEnd(w);
        w.stage = 2;
        w.sourceSlot = -1; // 1 once parity was rewritten: the cache then forgets the window's stripes
        submitted = 0;
        int page = StripeGeometry.PAGE_BYTES;
        for (long at = o; at < end; ) {
            // a run of pages within one row with the same lost members
            long row = at / c;
            long rowEnd = Math.min(end, (row + 1) * c);
            long lost = pageLost[(int) ((at - o) / page)];
            long runEnd = at;
            while (runEnd < rowEnd && pageLost[(int) ((runEnd - o) / page)] == lost) {
                runEnd = Math.min(rowEnd, runEnd + page);
            }
            long from = at - o;
            long len = runEnd - at;
            at = runEnd;
            RowPattern pat = geometry.layout().pattern(row);
            math.rebuild(pat, lost, byMember, from, len);
            if (Long.bitCount(lost) >= maxDegraded) {
                continue; // no parity left to check
            }
            long dataLost = lost & ~(1L << pat.pd()) & (pat.qd() >= 0 ? ~(1L << pat.qd()) : -1L);
            boolean checkP = (lost & (1L << pat.pd())) == 0 && dataLost == 0;
            boolean checkQ = pat.qd() >= 0 && (lost & (1L << pat.qd())) == 0;
            math.parity(pat, byMember, checkP ? wantP : null, checkQ ? wantQ : null, from, len);
            compare(w, pat, checkP, checkQ, wantP, wantQ, from, len, writesParity);
        }
        long targets = targetsOf(w);
        long rewrite = readFailed | targets;
        for (int s = 0; s < members; s++) {
            if ((rewrite & (1L << s)) == 0) {
                continue;
            }
            Member m = failedMember[s] != null ? failedMember[s] : engine.member(s);
            if (m == null || m.state() == MemberState.FAULTY) {
                continue;
            }
            if ((targets & (1L << s)) != 0) {
                submitted++;
                w.submit(m, Bio.Op.WRITE, m.dataOffsetBytes() + o, w.lengthBytes(), w.buffer(s));
            } else {
                // only the pages it could not read: the rest of its buffer is what it holds, or
                // (a parity member) older than the parity compare() just wrote there
                writeLostPages(w, m, s, pages);
            }
            // md's R5_ReWrite: the rebuilt block is written back (counted in the superblock)
            if (failedMember[s] != null) {
                m.countCorrectedRead();
            }
        }
        return submitted == 0;
    }

    /** Writes back the runs of pages {@code slot} could not read, rebuilt in its buffer. */
    private void writeLostPages(SyncWindow w, Member m, int slot, int pages) {
        int page = StripeGeometry.PAGE_BYTES;
        int p = 0;
        while (p < pages) {
            if ((pageLost[p] & (1L << slot)) == 0) {
                p++;
                continue;
            }
            int start = p;
            while (p < pages && (pageLost[p] & (1L << slot)) != 0) {
                p++;
            }
            long from = (long) start * page;
            long len = Math.min(w.lengthBytes(), (long) p * page) - from;
            submitted++;
            w.submit(m, Bio.Op.WRITE, m.dataOffsetBytes() + w.offsetBytes() + from, len, w.buffer(slot).asSlice(from, len));
        }
    }

    /** The lowest slot in {@code mask} above {@code after} (-1: the lowest of all). */
    static int nextSlot(long mask, int after) {
        long rest = after < 0 ? mask : after >= 63 ? 0 : mask & -(1L << (after + 1));
        assert rest != 0 : "no slot after " + after + " in " + Long.toBinaryString(mask);
        return Long.numberOfTrailingZeros(rest);
    }

    /** Compares the computed parity with the members' in 4 KiB columns; counts and rewrites the differing ones. */
    private void compare(SyncWindow w, RowPattern pat, boolean checkP, boolean checkQ, MemorySegment wantP,
                         MemorySegment wantQ, long from, long len, boolean write) {
        int page = StripeGeometry.PAGE_BYTES;
        MemorySegment haveP = byMember[pat.pd()];
        MemorySegment haveQ = pat.qd() >= 0 ? byMember[pat.qd()] : null;
        long runP = -1;
        long runQ = -1;
        for (long p = from; p < from + len; p += page) {
            long e = Math.min(from + len, p + page);
            boolean badP = checkP && MemorySegment.mismatch(wantP, p, e, haveP, p, e) >= 0;
            boolean badQ = checkQ && MemorySegment.mismatch(wantQ, p, e, haveQ, p, e) >= 0;
            if (badP || badQ) {
                w.mismatchSectors += (e - p) / 512;
            }
            if (write) {
                runP = run(w, pat.pd(), wantP, runP, p, badP);
                if (pat.qd() >= 0) {
                    runQ = run(w, pat.qd(), wantQ, runQ, p, badQ);
                }
            }
        }
        if (write) {
            flushRun(w, pat.pd(), wantP, runP, from + len);
            if (pat.qd() >= 0) {
                flushRun(w, pat.qd(), wantQ, runQ, from + len);
            }
        }
    }

    /** Extends or ends a run of differing pages of {@code member}; returns where the open run starts (-1: none). */
    private long run(SyncWindow w, int member, MemorySegment want, long start, long page, boolean bad) {
        if (bad) {
            return start < 0 ? page : start;
        }
        flushRun(w, member, want, start, page);
        return -1;
    }

    private void flushRun(SyncWindow w, int member, MemorySegment want, long start, long end) {
        if (start < 0) {
            return;
        }
        Member m = engine.member(member);
        if (m == null || m.state() == MemberState.FAULTY) {
            return;
        }
        w.sourceSlot = 1; // parity written: see writesEnded
        submitted++;
        w.submit(m, Bio.Op.WRITE, m.dataOffsetBytes() + w.offsetBytes() + start, end - start, want.asSlice(start, end - start));
    }

    private boolean writesEnded(SyncWindow w) {
        for (int i = 0; i < w.ios(); i++) {
            if (w.ioStatus(i) != Errno.OK) {
                Member m = w.ioMember(i);
                m.countWriteError();
                engine.array().memberError(m);
            }
        }
        if (w.sourceSlot == 1) {
            long unit = geometry.unitBytes();
            engine.cache.forget(w.offsetBytes() / unit, Math.ceilDiv(windowEnd(w), unit));
        }
        return true;
    }
}

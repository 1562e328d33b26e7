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
 *   stage 1  per row piece: lost = members not read (missing, rebuilding, or the read failed);
 *              more lost than the parity covers: the window fails (recovery) or is skipped
 *              (resync/check/repair of an array with no redundancy left, as md skips it)
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
            case 1 -> computeStage(w);
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

    private boolean computeStage(SyncWindow w) {
        // the i-th read was of the i-th slot set in triedSlots
        long readOk = 0;
        long readFailed = 0;
        Member[] failedMember = new Member[members];
        int slot = -1;
        for (int i = 0; i < w.ios(); i++) {
            slot = nextSlot(w.triedSlots, slot);
            if (w.ioStatus(i) == Errno.OK) {
                readOk |= 1L << slot;
            } else {
                readFailed |= 1L << slot;
                failedMember[slot] = w.ioMember(i);
                w.ioMember(i).countReadError();
            }
        }
        long all = members == 64 ? -1L : (1L << members) - 1;
        long lost = all & ~readOk;
        if (Long.bitCount(lost) > maxDegraded) {
            return fail(w, "no redundancy left to rebuild member bytes " + w.offsetBytes() + "+" + w.lengthBytes()
                + " (" + Long.bitCount(lost) + " members could not be read)");
        }
        for (int s = 0; s < members; s++) {
            byMember[s] = w.buffer(s);
        }
        MemorySegment wantP = w.buffer(members);
        MemorySegment wantQ = w.buffer(members + 1);
        boolean verify = Long.bitCount(lost) < maxDegraded;
        boolean writesParity = w.action() == SyncAction.RESYNC || w.action() == SyncAction.REPAIR;
        long c = geometry.chunkBytes();
        long o = w.offsetBytes();
        long end = windowEnd(w);
        w.stage = 2;
        w.sourceSlot = -1; // 1 once parity was rewritten: the cache then forgets the window's stripes
        submitted = 0;
        for (long at = o; at < end; at = (at / c + 1) * c) {
            long row = at / c;
            long pieceEnd = Math.min(end, (row + 1) * c);
            long from = at - o;
            long len = pieceEnd - at;
            RowPattern pat = geometry.layout().pattern(row);
            math.rebuild(pat, lost, byMember, from, len);
            if (!verify) {
                continue;
            }
            long dataLost = lost & ~(1L << pat.pd()) & (pat.qd() >= 0 ? ~(1L << pat.qd()) : -1L);
            boolean checkP = (lost & (1L << pat.pd())) == 0 && dataLost == 0;
            boolean checkQ = pat.qd() >= 0 && (lost & (1L << pat.qd())) == 0;
            math.parity(pat, byMember, checkP ? wantP : null, checkQ ? wantQ : null, from, len);
            compare(w, pat, checkP, checkQ, wantP, wantQ, from, len, writesParity);
        }
        long rewrite = readFailed | targetsOf(w);
        for (int s = 0; s < members; s++) {
            if ((rewrite & (1L << s)) == 0) {
                continue;
            }
            Member m = failedMember[s] != null ? failedMember[s] : engine.member(s);
            if (m == null || m.state() == MemberState.FAULTY) {
                continue;
            }
            submitted++;
            w.submit(m, Bio.Op.WRITE, m.dataOffsetBytes() + o, w.lengthBytes(), w.buffer(s));
            // md's R5_ReWrite: the rebuilt block is written back; a member that keeps needing it is failed
            if (failedMember[s] != null && m.countCorrectedRead() > StripeMachine.CORRECTED_READS_MAX) {
                engine.array().memberError(m);
            }
        }
        return submitted == 0;
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

package io.jmd.md.stripe;

import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.md.Member;
import io.jmd.md.parity.Gf256;
import io.jmd.md.parity.Parity;
import io.jmd.md.parity.ParityKernels;

import java.lang.foreign.MemorySegment;

/**
 * The stripe state machine, md's handle_stripe reduced to one op (or one batch of writes) at a
 * time: runs on the md thread only, which owns every stripe's pages, masks, batch and delay state
 * while the stripe has ops.
 *
 * <p>Each stripe serves its ops in arrival order; the write ops at the head of its queue are
 * served together as one batch (one plan, one parity update, one write per touched page), and a
 * batch ends together. A batch that needs reads may first wait in {@link StripeDelays}. An op
 * (the batch's head op for writes) moves through
 * <pre>
 *   PLAN     what must be read (pages not up to date), from members that work for this op
 *   READING  member reads in flight                                   -- then PLAN again
 *   compute  rebuild missing blocks, merge new data, update parity     (no I/O, no waiting)
 *   WRITING  member writes in flight                                  -- then done
 * </pre>
 * A write chooses as md's handle_stripe_dirtying does: read-modify-write (old data and old parity
 * of the written pages) if it reads strictly fewer pages than reconstruct-write (the unwritten data
 * of every touched column); a full-stripe write reads nothing. A plan that needs a block of a
 * missing member is not possible; if neither is, the surviving members are read and the missing
 * blocks rebuilt first (degraded write). Reads of a missing (or failing) member rebuild it the
 * same way. A member I/O error makes the member missing for the rest of the op; writes that fail
 * fail the member (the request then waits for the superblock), or the op if it cannot be lost.
 */
final class StripeMachine {
    /** md's max_corr_read_errors default: a member needing more read-error rewrites is failed. */
    static final int CORRECTED_READS_MAX = 20;
    private final StripeEngine engine;
    private final StripeGeometry geometry;
    private final ParityKernels kernels;
    private final int members;
    private final int dataDisks;
    private final int maxDegraded;

    // scratch, md thread only
    private final int[] need;
    private final int[] rmwNeed;
    private final int[] rcwNeed;
    private final int[] touch;
    private final int[] full;
    private final MemorySegment[] sources;
    private final MemorySegment[] syndrome;
    /** Per member: the buffer its next write comes from instead of the stripe page (a request's slice), or null. */
    private final MemorySegment[] writeFrom;
    /** Counters for tests and reports: which plan writes took (written by the md thread only). */
    volatile long rmwWrites;
    volatile long rcwWrites;
    volatile long degradedWrites;
    /** Of those, batches that wrote every data page of their stripe (parity from new data alone). */
    volatile long fullStripeWrites;
    /** Times a partial-stripe batch was held back for writes likely to follow (see StripeDelays). */
    volatile long delayedWrites;
    private final StripeDelays delays;
    /** Member bios of this pass, handed out at its end ({@link #unplug}). */
    private final MemberPlug plug;

    StripeMachine(StripeEngine engine, StripeDelays delays) {
        this.engine = engine;
        this.delays = delays;
        this.plug = new MemberPlug(engine.geometry.raidDisks());
        this.geometry = engine.geometry;
        this.kernels = engine.kernels;
        this.members = geometry.raidDisks();
        this.dataDisks = geometry.dataDisks();
        this.maxDegraded = engine.layout.maxDegraded();
        this.need = new int[members];
        this.rmwNeed = new int[members];
        this.rcwNeed = new int[members];
        this.touch = new int[dataDisks];
        this.full = new int[dataDisks];
        this.sources = new MemorySegment[members];
        this.syndrome = new MemorySegment[members];
        this.writeFrom = new MemorySegment[members];
    }

    /** Serves the stripe's ops until one waits for I/O (or is delayed) or none is left. */
    void handle(StripeHead sh) {
        StripeOp op;
        while ((op = sh.incoming.poll()) != null) {
            sh.ops.addLast(op);
        }
        if (sh.stale.getAndSet(false)) {
            sh.forgetPages(); // the online sync rewrote parity under the cache (StripeSync)
        }
        while (!sh.ops.isEmpty() && sh.ioPending.get() == 0) {
            op = sh.ops.peekFirst();
            assert op.stripe == sh : "op on the wrong stripe: " + op;
            int done = op.kind == StripeOp.Kind.WRITE ? stepWrites(sh) : (stepRead(sh, op) ? 1 : 0);
            if (done == 0) {
                return; // member I/O in flight (its completion queues the stripe again) or delayed
            }
            StripeOp[] finished = new StripeOp[done];
            for (int i = 0; i < done; i++) {
                finished[i] = sh.ops.pollFirst();
            }
            boolean last = sh.ops.isEmpty();
            for (StripeOp f : finished) {
                engine.opDone(f);
                engine.cache.release(sh); // the op's reference; after the last one the stripe may be reused at once
            }
            if (last) {
                return;
            }
        }
    }

    /** End of a handler pass: the member bios it issued go out. */
    void unplug() {
        plug.unplug();
    }

    // ---- reads ----

    private boolean stepRead(StripeHead sh, StripeOp op) {
        if (op.fixPages != 0) {
            return readFixStep(sh, op);
        }
        if (op.phase == StripeOp.Phase.READING) {
            absorbReads(sh, op);
        }
        RowPattern p = sh.pattern;
        int dm = p.dataMember()[op.dataIndex];
        long cell = geometry.cellStart(op.key, op.dataIndex);
        long from = op.fromArray - cell;
        long to = op.toArray - cell;
        int pages = StripeGeometry.pageMask(from, to);
        long failed = engine.failedMembers(sh.key) | op.badMembers;
        if ((sh.uptodate[dm] & pages) != pages) {
            clear(need);
            if ((failed & (1L << dm)) == 0) {
                need[dm] = pages & ~sh.uptodate[dm];
            } else {
                if (Long.bitCount(failed) > maxDegraded) {
                    op.status = Errno.EIO; // more members lost than the parity covers
                    return true;
                }
                needSurvivors(sh, pages, failed);
            }
            if (issue(sh, op, Bio.Op.READ, 0)) {
                return false;
            }
            rebuild(sh, pages, failed);
        }
        Bio parent = op.request.parent;
        MemorySegment.copy(sh.pages[dm], from, parent.data, op.fromArray - parent.offsetBytes, to - from);
        return !startReadFix(sh, op, dm, pages);
    }

    // ---- read errors rewritten (md's R5_ReadError -> R5_ReWrite -> read again) ----

    /**
     * The op's member failed to read {@code pages} and the stripe rebuilt them (the request has
     * its data already): they are written back to the member, which makes a disk remap a bad
     * sector, then read again from it. Returns true if the fix started (the op ends after it).
     */
    private boolean startReadFix(StripeHead sh, StripeOp op, int dm, int pages) {
        if ((op.badMembers & (1L << dm)) == 0 || (engine.failedMembers(sh.key) & (1L << dm)) != 0 || engine.array().isReadOnly()) {
            return false;
        }
        // The rewrite is a member write the sync must not run beside: a window reading the member
        // while it is in flight computes parity from what the rewrite then replaces (found by the
        // simulator: jmd sim --seed 130 --ops 1500 --level raid5 ended with parity not matching
        // its data). So it enters the sync barrier as a normal write does, without waiting: with a
        // window up there it is not done (the window rewrites what the member cannot read itself).
        var barrier = syncBarrier();
        if (barrier != null && !barrier.tryEnterNormal(fixFrom(op), fixTo(op))) {
            return false;
        }
        clear(need);
        need[dm] = pages;
        op.fixPages = pages;
        if (issue(sh, op, Bio.Op.WRITE, 0)) {
            return true;
        }
        if (barrier != null) {
            barrier.exitNormal(fixFrom(op), fixTo(op));
        }
        return false;
    }

    private io.jmd.md.resync.SyncBarrier syncBarrier() {
        var redundancy = engine.array().redundancy();
        return redundancy == null ? null : redundancy.barrier();
    }

    /** The sync barrier range (member bytes) of a read fix: its stripe's unit. */
    private long fixFrom(StripeOp op) {
        return geometry.memberOffset(op.key);
    }

    private long fixTo(StripeOp op) {
        return geometry.memberOffset(op.key) + geometry.unitBytes();
    }

    /** The rewrite or the read back ended: a member where either failed is failed (md_error). */
    private boolean readFixStep(StripeHead sh, StripeOp op) {
        boolean done = readFixStepInner(sh, op);
        if (done) {
            var barrier = syncBarrier();
            if (barrier != null) {
                barrier.exitNormal(fixFrom(op), fixTo(op));
            }
        }
        return done;
    }

    private boolean readFixStepInner(StripeHead sh, StripeOp op) {
        int dm = sh.pattern.dataMember()[op.dataIndex];
        Member m = engine.member(dm);
        boolean failed = sh.ioErrors.getAndSet(0) != 0;
        boolean rewritten = op.phase == StripeOp.Phase.WRITING;
        sh.readMask[dm] = 0;
        if (failed || m == null) {
            if (m != null) {
                if (rewritten) {
                    m.countWriteError();
                } else {
                    m.countReadError();
                }
                engine.array().memberError(m);
            }
            sh.uptodate[dm] &= ~op.fixPages; // what the member holds there is unknown now
            return true;
        }
        if (rewritten) {
            clear(need);
            need[dm] = op.fixPages; // read it back over the rebuilt copy: the request has its data
            return !issue(sh, op, Bio.Op.READ, 0);
        }
        if (m.countCorrectedRead() > CORRECTED_READS_MAX) {
            engine.array().memberError(m); // md's max_corr_read_errors: it keeps failing
        }
        return true;
    }

    // ---- writes ----

    /**
     * Serves the write ops at the head of the stripe's queue as one batch (md: every bio on a
     * stripe's towrite lists is drained together): one plan, one parity update, one write of each
     * touched page. Returns how many ops are done, 0 while reads or writes are in flight or the
     * batch is delayed.
     */
    private int stepWrites(StripeHead sh) {
        StripeOp head = sh.ops.peekFirst();
        if (head.phase == StripeOp.Phase.WRITING) {
            absorbWrites(sh, head);
            return sh.batchOps;
        }
        if (head.phase == StripeOp.Phase.READING) {
            absorbReads(sh, head);
        }
        int n = 0;
        long badMembers = 0;
        boolean fua = false;
        for (StripeOp o : sh.ops) {
            if (o.kind != StripeOp.Kind.WRITE) {
                break;
            }
            n++;
            badMembers |= o.badMembers;
            fua |= o.request.parent.fua();
        }
        RowPattern p = sh.pattern;
        int cols = ranges(sh, n);
        long failed = engine.failedMembers(sh.key) | badMembers;
        if (Long.bitCount(failed) > maxDegraded) {
            delays.issued(sh);
            failBatch(sh, n, Errno.EIO);
            return n;
        }
        boolean rmw = plan(sh, p, cols, failed);
        if (anyNeeded() && delays.hold(sh, !fua && completedByWhatFollows(sh, p, n))) {
            delayedWrites++;
            return 0; // more writes to this stripe are likely on their way: see StripeDelays
        }
        if (issue(sh, head, Bio.Op.READ, 0)) {
            return 0;
        }
        delays.issued(sh);
        if (!rmw && !allDataUpToDate(sh, p, cols)) {
            rebuild(sh, cols, failed); // degraded: the missing data comes back from parity first
            degradedWrites++;
        }
        if (rmw) {
            readModifyWrite(sh, p, n);
            rmwWrites++;
        } else {
            boolean fullStripe = isFullStripe(p);
            if (fullStripe) {
                fullStripeWrites++;
            }
            if (!(fullStripe && failed == 0 && writeFromRequests(sh, p, n))) {
                reconstructWrite(sh, p, cols, n);
            }
            rcwWrites++;
        }
        // A member that only failed a read of this op is still written: that rewrites what it could
        // not read (md's read-error correction); only members that are out of the array are skipped.
        long gone = engine.unwritableMembers(); // members being rebuilt get writes (StripeSync)
        clear(need);
        for (int k = 0; k < dataDisks; k++) {
            int m = p.dataMember()[k];
            sh.uptodate[m] |= touch[k];
            if ((gone & (1L << m)) == 0) {
                need[m] = touch[k];
            }
        }
        if (writeFrom[p.dataMember()[0]] != null) {
            for (int k = 0; k < dataDisks; k++) {
                sh.uptodate[p.dataMember()[k]] = 0; // written from the requests' buffers, not cached
            }
        }
        parityPages(sh, p, cols, gone);
        sh.batchOps = n;
        return issue(sh, head, Bio.Op.WRITE, fua ? Bio.FUA : 0) ? 0 : n; // done at once if every target is missing
    }

    private boolean anyNeeded() {
        for (int m = 0; m < members; m++) {
            if (need[m] != 0) {
                return true;
            }
        }
        return false;
    }

    /** Whether every data page of the stripe is written by the batch (nothing else goes into parity). */
    private boolean isFullStripe(RowPattern p) {
        int all = allPages();
        for (int k = 0; k < dataDisks; k++) {
            if (full[k] != all) {
                return false;
            }
        }
        return true;
    }

    private int allPages() {
        return (int) ((1L << geometry.pagesPerUnit()) - 1);
    }

    /**
     * Whether a sequential writer would complete the stripe: the newest request of the batch is
     * part of a sequential stream, and every data page the batch neither writes nor has cached
     * lies after the batch's end in array order. A lone or random write is never delayed.
     */
    private boolean completedByWhatFollows(StripeHead sh, RowPattern p, int n) {
        long end = 0;
        boolean streaming = false;
        int i = 0;
        for (StripeOp o : sh.ops) {
            if (i++ == n) {
                break;
            }
            Bio parent = o.request.parent;
            end = Math.max(end, parent.offsetBytes + parent.lengthBytes);
            streaming = o.request.sequential;
            if (engine.flushedSince(o.request)) {
                return false; // a flush came after it: it goes now
            }
        }
        if (!streaming) {
            return false;
        }
        int all = allPages();
        for (int k = 0; k < dataDisks; k++) {
            int missing = all & ~full[k] & ~sh.uptodate[p.dataMember()[k]];
            if (missing != 0
                && geometry.cellStart(sh.key, k) + (long) Integer.numberOfTrailingZeros(missing) * StripeGeometry.PAGE_BYTES < end) {
                return false;
            }
        }
        return true;
    }

    private void failBatch(StripeHead sh, int n, int status) {
        int i = 0;
        for (StripeOp o : sh.ops) {
            if (i++ == n) {
                break;
            }
            o.status = status;
        }
    }

    /**
     * Fills touch/full per data block with the union of the batch's first {@code n} ops (a page
     * wholly written by any op is full); returns the touched columns.
     */
    private int ranges(StripeHead sh, int n) {
        java.util.Arrays.fill(touch, 0);
        java.util.Arrays.fill(full, 0);
        int unit = geometry.unitBytes();
        int i = 0;
        for (StripeOp o : sh.ops) {
            if (i++ == n) {
                break;
            }
            Bio parent = o.request.parent;
            long start = parent.offsetBytes;
            long end = start + parent.lengthBytes;
            for (int k = 0; k < dataDisks; k++) {
                long cell = geometry.cellStart(sh.key, k);
                long lo = Math.max(start, cell) - cell;
                long hi = Math.min(end, cell + unit) - cell;
                if (lo < hi) {
                    touch[k] |= StripeGeometry.pageMask(lo, hi);
                    full[k] |= StripeGeometry.fullPageMask(lo, hi);
                }
            }
        }
        int cols = 0;
        for (int k = 0; k < dataDisks; k++) {
            cols |= touch[k];
        }
        assert cols != 0 : "write batch touching nothing of its stripe " + sh;
        return cols;
    }

    /**
     * Chooses read-modify-write or reconstruct-write and leaves in {@code need} what it must read.
     * Returns true for read-modify-write. With neither possible (a block of a missing member is
     * needed and not cached), needs every surviving member's pages of the columns, for a rebuild.
     */
    private boolean plan(StripeHead sh, RowPattern p, int cols, long failed) {
        clear(rmwNeed);
        clear(rcwNeed);
        boolean rmwOk = true;
        boolean rcwOk = true;
        int rmwCost = 0;
        int rcwCost = 0;
        for (int k = 0; k < dataDisks; k++) {
            int m = p.dataMember()[k];
            int old = touch[k] & ~sh.uptodate[m];
            if (old != 0) {
                rmwOk &= (failed & (1L << m)) == 0;
                rmwNeed[m] |= old;
                rmwCost += Integer.bitCount(old);
            }
            int other = cols & ~full[k] & ~sh.uptodate[m];
            if (other != 0) {
                rcwOk &= (failed & (1L << m)) == 0;
                rcwNeed[m] |= other;
                rcwCost += Integer.bitCount(other);
            }
        }
        for (int parity : new int[] {p.pd(), p.qd()}) {
            if (parity < 0) {
                continue;
            }
            int old = cols & ~sh.uptodate[parity];
            if (old != 0) {
                rmwOk &= (failed & (1L << parity)) == 0;
                rmwNeed[parity] |= old;
                rmwCost += Integer.bitCount(old);
            }
        }
        if (rmwOk && failed == 0 && engine.parityMayDiffer(sh.key)) {
            rmwOk = false; // not resynced yet: rcw makes the parity match its data (md's handle_stripe_dirtying)
        }
        if (rmwOk && (!rcwOk || rmwCost < rcwCost)) {
            System.arraycopy(rmwNeed, 0, need, 0, members);
            return true;
        }
        if (rcwOk) {
            System.arraycopy(rcwNeed, 0, need, 0, members);
            return false;
        }
        clear(need);
        needSurvivors(sh, cols, failed);
        return false;
    }

    private boolean allDataUpToDate(StripeHead sh, RowPattern p, int cols) {
        for (int k = 0; k < dataDisks; k++) {
            int m = p.dataMember()[k];
            if ((cols & ~full[k] & ~sh.uptodate[m]) != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * rmw: parity -= old data, data = new, parity += new data (lib/raid6 xor_syndrome per block),
     * over whole touched pages (their old content is up to date: the plan read it).
     */
    private void readModifyWrite(StripeHead sh, RowPattern p, int n) {
        MemorySegment pPage = sh.pages[p.pd()];
        MemorySegment qPage = p.qd() >= 0 ? sh.pages[p.qd()] : null;
        for (int k = 0; k < dataDisks; k++) {
            if (touch[k] == 0) {
                continue;
            }
            int m = p.dataMember()[k];
            MemorySegment d = sh.pages[m];
            int coefficient = qPage == null ? 0 : Gf256.exp(p.slot()[m]);
            RunVisitor fold = (from, len) -> {
                kernels.xorInto(pPage, d, from, len);
                if (qPage != null) {
                    kernels.mulXorInto(qPage, d, coefficient, from, len);
                }
            };
            forEachRun(touch[k], fold);
            copyIn(sh, p, k, n);
            forEachRun(touch[k], fold);
        }
    }

    /** rcw: data = new, then parity from all data of the touched columns. */
    private void reconstructWrite(StripeHead sh, RowPattern p, int cols, int n) {
        for (int k = 0; k < dataDisks; k++) {
            if (touch[k] != 0) {
                copyIn(sh, p, k, n);
            }
        }
        forEachRun(cols, (from, len) -> computeParity(sh, p, from, len, true, true));
    }

    /**
     * A full-stripe batch whose every data block comes whole from one request (the newest that
     * touches it) is written from the requests' own buffers: parity is computed from them, and
     * only parity goes through the stripe's pages. Spares copying the data in (md's
     * skip_copy does the same for whole-page bios). Returns false, having done nothing, when some
     * block is made of several requests' pieces (or zeroes): then the data is copied in.
     */
    private boolean writeFromRequests(StripeHead sh, RowPattern p, int n) {
        int unit = geometry.unitBytes();
        for (int k = 0; k < dataDisks; k++) {
            long cell = geometry.cellStart(sh.key, k);
            Bio newest = null;
            int i = 0;
            for (StripeOp o : sh.ops) {
                if (i++ == n) {
                    break;
                }
                Bio parent = o.request.parent;
                if (parent.offsetBytes < cell + unit && parent.offsetBytes + parent.lengthBytes > cell) {
                    newest = parent;
                }
            }
            if (newest == null || newest.data == null || newest.offsetBytes > cell
                || newest.offsetBytes + newest.lengthBytes < cell + unit) {
                java.util.Arrays.fill(writeFrom, null);
                return false;
            }
            writeFrom[p.dataMember()[k]] = newest.data.asSlice(cell - newest.offsetBytes, unit);
        }
        if (p.qd() < 0) {
            for (int k = 0; k < dataDisks; k++) {
                sources[k] = writeFrom[p.dataMember()[k]];
            }
            kernels.xor(sh.pages[p.pd()], sources, dataDisks, 0, unit);
        } else {
            java.util.Arrays.fill(syndrome, null);
            for (int k = 0; k < dataDisks; k++) {
                int m = p.dataMember()[k];
                syndrome[p.slot()[m]] = writeFrom[m];
            }
            kernels.genSyndrome(syndrome, p.slots(), sh.pages[p.pd()], sh.pages[p.qd()], 0, unit);
        }
        return true;
    }

    /** Copies data block k's part of each of the batch's ops into its page, oldest first (newest wins). */
    private void copyIn(StripeHead sh, RowPattern p, int k, int n) {
        MemorySegment d = sh.pages[p.dataMember()[k]];
        long cell = geometry.cellStart(sh.key, k);
        int unit = geometry.unitBytes();
        int i = 0;
        for (StripeOp o : sh.ops) {
            if (i++ == n) {
                break;
            }
            Bio parent = o.request.parent;
            long lo = Math.max(parent.offsetBytes, cell) - cell;
            long hi = Math.min(parent.offsetBytes + parent.lengthBytes, cell + unit) - cell;
            if (lo >= hi) {
                continue;
            }
            if (parent.data == null) {
                d.asSlice(lo, hi - lo).fill((byte) 0); // write-zeroes
            } else {
                MemorySegment.copy(parent.data, cell + lo - parent.offsetBytes, d, lo, hi - lo);
            }
        }
    }

    private void computeParity(StripeHead sh, RowPattern p, long from, long len, boolean wantP, boolean wantQ) {
        if (p.qd() < 0) {
            for (int k = 0; k < dataDisks; k++) {
                sources[k] = sh.pages[p.dataMember()[k]];
            }
            kernels.xor(sh.pages[p.pd()], sources, dataDisks, from, len);
            return;
        }
        fillSyndromeSlots(sh, p);
        kernels.genSyndrome(syndrome, p.slots(), wantP ? sh.pages[p.pd()] : null, wantQ ? sh.pages[p.qd()] : null, from, len);
    }

    private void fillSyndromeSlots(StripeHead sh, RowPattern p) {
        java.util.Arrays.fill(syndrome, null);
        for (int k = 0; k < dataDisks; k++) {
            int m = p.dataMember()[k];
            syndrome[p.slot()[m]] = sh.pages[m];
        }
    }

    /** Marks the parity pages computed and asks for their writes (except to missing members). */
    private void parityPages(StripeHead sh, RowPattern p, int cols, long failed) {
        for (int parity : new int[] {p.pd(), p.qd()}) {
            if (parity < 0) {
                continue;
            }
            sh.uptodate[parity] |= cols;
            if ((failed & (1L << parity)) == 0) {
                need[parity] = cols;
            }
        }
    }

    // ---- rebuilding missing blocks ----

    /** Needs every page of {@code cols} of every working member that is not up to date. */
    private void needSurvivors(StripeHead sh, int cols, long failed) {
        for (int m = 0; m < members; m++) {
            if ((failed & (1L << m)) == 0) {
                need[m] = cols & ~sh.uptodate[m];
            }
        }
    }

    /**
     * Rebuilds, in the columns {@code cols}, every member whose pages there are not up to date,
     * from the others (which are). At most maxDegraded members can be missing.
     */
    private void rebuild(StripeHead sh, int cols, long failed) {
        RowPattern p = sh.pattern;
        long missing = 0;
        for (int m = 0; m < members; m++) {
            if ((sh.uptodate[m] & cols) != cols) {
                assert (failed & (1L << m)) != 0 : "member " + m + " neither read nor missing";
                missing |= 1L << m;
            }
        }
        if (missing == 0) {
            return;
        }
        assert Long.bitCount(missing) <= maxDegraded : "cannot rebuild " + Long.bitCount(missing) + " members";
        long lost = missing;
        forEachRun(cols, (from, len) -> rebuildRun(sh, p, lost, from, len));
        for (int m = 0; m < members; m++) {
            if ((missing & (1L << m)) != 0) {
                sh.uptodate[m] |= cols;
            }
        }
    }

    private void rebuildRun(StripeHead sh, RowPattern p, long missing, long from, long len) {
        if (p.qd() < 0) {
            // raid4/5: the one missing block is the XOR of all the others
            int lostMember = Long.numberOfTrailingZeros(missing);
            int n = 0;
            for (int m = 0; m < members; m++) {
                if (m != lostMember) {
                    sources[n++] = sh.pages[m];
                }
            }
            kernels.xor(sh.pages[lostMember], sources, n, from, len);
            return;
        }
        boolean pLost = (missing & (1L << p.pd())) != 0;
        boolean qLost = (missing & (1L << p.qd())) != 0;
        long dataLost = missing & ~(1L << p.pd()) & ~(1L << p.qd());
        fillSyndromeSlots(sh, p);
        MemorySegment pPage = sh.pages[p.pd()];
        MemorySegment qPage = sh.pages[p.qd()];
        switch (Long.bitCount(dataLost)) {
            case 0 -> kernels.genSyndrome(syndrome, p.slots(), pLost ? pPage : null, qLost ? qPage : null, from, len);
            case 1 -> {
                int a = p.slot()[Long.numberOfTrailingZeros(dataLost)];
                if (!pLost) {
                    Parity.recoverDataFromP(kernels, syndrome, p.slots(), a, pPage, sources, from, len);
                    if (qLost) {
                        kernels.genSyndrome(syndrome, p.slots(), null, qPage, from, len);
                    }
                } else {
                    Parity.recoverDataAndP(kernels, syndrome, p.slots(), a, pPage, qPage, from, len);
                }
            }
            default -> {
                int first = p.slot()[Long.numberOfTrailingZeros(dataLost)];
                int second = p.slot()[63 - Long.numberOfLeadingZeros(dataLost)];
                Parity.recoverTwoData(kernels, syndrome, p.slots(), Math.min(first, second), Math.max(first, second),
                    pPage, qPage, from, len);
            }
        }
    }

    // ---- member I/O ----

    /**
     * Issues {@code op} for every page in {@code need}, one member I/O per run of pages. Returns
     * true if any was issued (the stripe is queued again when the last ends), false if none was
     * needed. The op moves to READING or WRITING.
     */
    private boolean issue(StripeHead sh, StripeOp op, Bio.Op bioOp, int flags) {
        boolean any = false;
        for (int m = 0; m < members && !any; m++) {
            any = need[m] != 0;
        }
        if (!any) {
            java.util.Arrays.fill(writeFrom, null);
            return false;
        }
        op.phase = bioOp == Bio.Op.READ ? StripeOp.Phase.READING : StripeOp.Phase.WRITING;
        sh.ioErrors.set(0);
        sh.ioPending.set(1); // the issuer's bias: no completion can queue the stripe before all are out
        long base = geometry.memberOffset(sh.key);
        for (int m = 0; m < members; m++) {
            int pages = need[m];
            sh.readMask[m] = bioOp == Bio.Op.READ ? pages : 0;
            if (pages == 0) {
                continue;
            }
            Member member = engine.member(m);
            int mm = m;
            MemorySegment from0 = writeFrom[m] != null ? writeFrom[m] : sh.pages[m];
            writeFrom[m] = null;
            forEachRun(pages, (from, len) -> {
                sh.ioPending.incrementAndGet();
                plug.add(mm, member.device(), new Bio(bioOp, member.dataOffsetBytes() + base + from, len,
                    from0.asSlice(from, len), flags, sh, sh.memberCallbacks[mm]));
            });
        }
        java.util.Arrays.fill(writeFrom, null);
        if (sh.ioPending.decrementAndGet() == 0) {
            engine.queueForHandling(sh); // all ended already
        }
        return true;
    }

    /** Read phase over: what arrived is up to date, a member that failed is missing for this op. */
    private void absorbReads(StripeHead sh, StripeOp op) {
        long errors = sh.ioErrors.getAndSet(0);
        for (int m = 0; m < members; m++) {
            if (sh.readMask[m] == 0) {
                continue;
            }
            if ((errors & (1L << m)) != 0) {
                op.badMembers |= 1L << m;
                engine.member(m).countReadError();
            } else {
                sh.uptodate[m] |= sh.readMask[m];
            }
            sh.readMask[m] = 0;
        }
        op.phase = StripeOp.Phase.PLAN;
    }

    /**
     * Write phase over. A member whose write failed is failed (the request then ends only once
     * that is on disk); if the array cannot lose it, the op fails and the stripe forgets its pages,
     * since the members no longer agree with them.
     */
    private void absorbWrites(StripeHead sh, StripeOp head) {
        long errors = sh.ioErrors.getAndSet(0);
        boolean memberFailed = false;
        int status = Errno.OK;
        for (int m = 0; m < members; m++) {
            if ((errors & (1L << m)) == 0) {
                continue;
            }
            Member member = engine.member(m);
            member.countWriteError();
            if (engine.array().memberError(member)) {
                memberFailed = true;
            } else {
                status = Errno.EIO;
                sh.invalidate();
            }
        }
        int i = 0;
        for (StripeOp o : sh.ops) {
            if (i++ == sh.batchOps) {
                break;
            }
            o.memberFailed |= memberFailed;
            if (status != Errno.OK) {
                o.status = status;
            }
        }
    }

    // ---- helpers ----

    @FunctionalInterface
    private interface RunVisitor {
        void run(long fromBytes, long lengthBytes);
    }

    /** Calls {@code v} for each run of consecutive pages in {@code mask}, in bytes of the unit. */
    private static void forEachRun(int mask, RunVisitor v) {
        int rest = mask;
        while (rest != 0) {
            int first = Integer.numberOfTrailingZeros(rest);
            int run = Integer.numberOfTrailingZeros(~(rest >>> first));
            v.run((long) first * StripeGeometry.PAGE_BYTES, (long) run * StripeGeometry.PAGE_BYTES);
            rest &= ~(((1 << run) - 1) << first);
        }
    }

    private static void clear(int[] a) {
        java.util.Arrays.fill(a, 0);
    }
}

package io.jmd.md.stripe;

import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.md.Member;
import io.jmd.md.parity.Gf256;
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
 * same way. A member read error makes the member missing for the rest of the op at the pages that
 * failed only, as md, whose stripe_head is one page: a bad sector on one member and another on a
 * second member, at other pages of the same unit, are two single failures that each page survives
 * (a failed read of several pages is read again a page at a time to find which failed). Rebuilt
 * pages a member failed to read are written back to it and read again (md's R5_ReadError,
 * R5_ReWrite). Writes that fail fail the member (the request then waits for the superblock), or the
 * op if it cannot be lost.
 */
final class StripeMachine {
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
    /** Rebuilds of lost pages (raid5: XOR; raid6: lib/raid6's cases), shared with the sync. */
    private final RowMath math;
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
        this.math = new RowMath(kernels, members);
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
            sh.forgetReadFailures(); // they were the finished op's (a later op reads for itself)
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
        if (op.fixing) {
            return readFixStep(sh, op);
        }
        RowPattern p = sh.pattern;
        int dm = p.dataMember()[op.dataIndex];
        long cell = geometry.cellStart(op.key, op.dataIndex);
        long from = op.fromArray - cell;
        long to = op.toArray - cell;
        int pages = StripeGeometry.pageMask(from, to);
        if (op.phase == StripeOp.Phase.READING) {
            absorbReads(sh, op);
        } else if (op.directFailed) {
            // md's aligned read that failed goes through the stripe, which reads the member a page
            // at a time: only the pages it cannot read are rebuilt
            op.directFailed = false;
            sh.suspectPages[dm] |= pages & ~sh.uptodate[dm];
        }
        int want = pages & ~sh.uptodate[dm];
        if (want != 0) {
            if (retrySuspects(sh, op)) {
                return false;
            }
            long failed = engine.failedMembers(sh.key);
            int lost = want & bad(sh, dm, failed);
            clear(need);
            need[dm] = want & ~lost;
            needSurvivors(sh, lost, failed);
            if (issue(sh, op, Bio.Op.READ, 0)) {
                return false;
            }
            if (unrecoverable(sh, lost) != 0) {
                op.status = Errno.EIO; // a page has more members lost than the parity covers
                return true;
            }
            rebuild(sh, lost);
        }
        Bio parent = op.request.parent;
        MemorySegment.copy(sh.pages[dm], from, parent.data, op.fromArray - parent.offsetBytes, to - from);
        return !startReadFix(sh, op);
    }

    // ---- read errors rewritten (md's R5_ReadError -> R5_ReWrite -> read again) ----

    /**
     * Members failed to read pages of the op and the stripe rebuilt them (the request has its data
     * already): those pages, and only those, are written back to their members, which makes a disk
     * remap a bad sector, then read again from them. Returns true if the fix started (the op ends
     * after it).
     */
    private boolean startReadFix(StripeHead sh, StripeOp op) {
        if (engine.array().isReadOnly()) {
            return false;
        }
        long failed = engine.failedMembers(sh.key);
        clear(need);
        boolean any = false;
        for (int m = 0; m < members; m++) {
            // what it could not read and is rebuilt now; the fix's steps work on this set
            sh.failedPages[m] = (failed & (1L << m)) != 0 ? 0 : sh.failedPages[m] & sh.uptodate[m];
            need[m] = sh.failedPages[m];
            any |= need[m] != 0;
        }
        if (!any) {
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
        op.fixing = true;
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
        boolean rewritten = op.phase == StripeOp.Phase.WRITING;
        long errors = sh.ioErrors.getAndSet(0);
        java.util.Arrays.fill(sh.readMask, 0);
        clear(need);
        for (int m = 0; m < members; m++) {
            int fix = sh.failedPages[m];
            if (fix == 0) {
                continue;
            }
            Member member = engine.member(m);
            if ((errors & (1L << m)) != 0 || member == null) {
                if (member != null) {
                    if (rewritten) {
                        member.countWriteError();
                    } else {
                        member.countReadError();
                    }
                    engine.array().memberError(member); // the rewrite did not take: md's "NOT corrected!!"
                }
                sh.uptodate[m] &= ~fix; // what the member holds there is unknown now
                sh.failedPages[m] = 0;
            } else if (rewritten) {
                need[m] = fix; // read it back over the rebuilt copy: the request has its data
            } else {
                sh.failedPages[m] = 0;
                member.readSucceeded();
                // md corrects (and counts in the superblock) a stripe, one page, at a time
                for (int i = 0; i < Integer.bitCount(fix); i++) {
                    member.countCorrectedRead();
                }
            }
        }
        return !(rewritten && issue(sh, op, Bio.Op.READ, 0));
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
        boolean fua = false;
        for (StripeOp o : sh.ops) {
            if (o.kind != StripeOp.Kind.WRITE) {
                break;
            }
            n++;
            fua |= o.request.parent.fua();
        }
        RowPattern p = sh.pattern;
        int cols = ranges(sh, n);
        long failed = engine.failedMembers(sh.key);
        if (Long.bitCount(failed) > maxDegraded) {
            delays.issued(sh);
            failBatch(sh, n, Errno.EIO);
            return n;
        }
        if (retrySuspects(sh, head)) {
            return 0;
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
            // degraded: the missing data comes back from parity first
            int missing = dataNotUpToDate(sh, p, cols);
            int lost = unrecoverable(sh, missing);
            if (lost != 0) {
                return failWritesOn(sh, n, lost);
            }
            rebuild(sh, missing);
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
            if (!(fullStripe && !anyLost(sh, cols, failed) && writeFromRequests(sh, p, n))) {
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

    /**
     * Some pages of the batch cannot be computed (more members lost there than the parity covers):
     * the batch's ops that write any of them fail, and the others stay to be served as a batch of
     * their own (md fails the bios of the pages' stripes only: a write elsewhere in the unit is
     * not lost with them). Moves the failed ops to the head of the queue; returns how many.
     */
    private int failWritesOn(StripeHead sh, int n, int lostPages) {
        StripeOp[] batch = new StripeOp[n];
        for (int i = 0; i < n; i++) {
            batch[i] = sh.ops.pollFirst();
        }
        int failed = 0;
        for (int pass = 0; pass < 2; pass++) { // the kept ops back first, then the failed ones before them
            for (int i = n - 1; i >= 0; i--) {
                boolean fails = (opColumns(sh, batch[i]) & lostPages) != 0;
                if (fails == (pass == 1)) {
                    batch[i].phase = StripeOp.Phase.PLAN;
                    sh.ops.addFirst(batch[i]);
                    if (fails) {
                        batch[i].status = Errno.EIO;
                        failed++;
                    }
                }
            }
        }
        assert failed > 0 : "no op of the batch writes the lost pages";
        return failed;
    }

    /** The pages (columns) of its stripe a write op touches, in any data block. */
    private int opColumns(StripeHead sh, StripeOp op) {
        Bio parent = op.request.parent;
        int unit = geometry.unitBytes();
        int cols = 0;
        for (int k = 0; k < dataDisks; k++) {
            long cell = geometry.cellStart(sh.key, k);
            long lo = Math.max(parent.offsetBytes, cell) - cell;
            long hi = Math.min(parent.offsetBytes + parent.lengthBytes, cell + unit) - cell;
            if (lo < hi) {
                cols |= StripeGeometry.pageMask(lo, hi);
            }
        }
        return cols;
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
                rmwOk &= (old & bad(sh, m, failed)) == 0;
                rmwNeed[m] |= old;
                rmwCost += Integer.bitCount(old);
            }
            int other = cols & ~full[k] & ~sh.uptodate[m];
            if (other != 0) {
                rcwOk &= (other & bad(sh, m, failed)) == 0;
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
                rmwOk &= (old & bad(sh, parity, failed)) == 0;
                rmwNeed[parity] |= old;
                rmwCost += Integer.bitCount(old);
            }
        }
        if (rmwOk && !anyLost(sh, cols, failed) && engine.parityMayDiffer(sh.key)) {
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
        return dataNotUpToDate(sh, p, cols) == 0;
    }

    /** The pages of {@code cols} where some data block the batch does not wholly write is not up to date. */
    private int dataNotUpToDate(StripeHead sh, RowPattern p, int cols) {
        int out = 0;
        for (int k = 0; k < dataDisks; k++) {
            out |= cols & ~full[k] & ~sh.uptodate[p.dataMember()[k]];
        }
        return out;
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

    /** The pages member {@code m} cannot give for this op: all if it is missing, else those it failed to read. */
    private static int bad(StripeHead sh, int m, long failed) {
        return (failed & (1L << m)) != 0 ? -1 : sh.failedPages[m];
    }

    /** Whether any member is missing, or failed to read a page of {@code cols} (md: s->failed != 0). */
    private boolean anyLost(StripeHead sh, int cols, long failed) {
        if (failed != 0) {
            return true;
        }
        for (int m = 0; m < members; m++) {
            if ((sh.failedPages[m] & cols) != 0) {
                return true;
            }
        }
        return false;
    }

    /** Also needs every page of {@code cols} that a member can give and is not up to date. */
    private void needSurvivors(StripeHead sh, int cols, long failed) {
        for (int m = 0; m < members; m++) {
            need[m] |= cols & ~sh.uptodate[m] & ~bad(sh, m, failed);
        }
    }

    /**
     * Reads the pages of failed multi-page reads again, one page per bio (md retries a failed read
     * with R5_ReadNoMerge for the same reason: one bad sector fails the whole bio), so only the
     * pages that fail again count as lost (the sync does the same: StripeSync's retry in pieces).
     * Returns true if reads were issued.
     */
    private boolean retrySuspects(StripeHead sh, StripeOp op) {
        long failed = engine.failedMembers(sh.key);
        clear(need);
        for (int m = 0; m < members; m++) {
            need[m] = (failed & (1L << m)) != 0 ? 0 : sh.suspectPages[m] & ~sh.uptodate[m];
            sh.suspectPages[m] = 0;
        }
        return issue(sh, op, Bio.Op.READ, 0, true);
    }

    /** The pages of {@code cols} with more members lost (not up to date) than the parity covers. */
    private int unrecoverable(StripeHead sh, int cols) {
        int out = 0;
        for (int rest = cols; rest != 0; rest &= rest - 1) {
            int page = Integer.numberOfTrailingZeros(rest);
            long lost = lostAt(sh, page);
            assert lostOnlyWhereBad(sh, lost, page) : "a member neither read nor lost at page " + page;
            if (Long.bitCount(lost) > maxDegraded) {
                out |= 1 << page;
            }
        }
        return out;
    }

    /**
     * Rebuilds, in the pages {@code cols}, every member's page that is not up to date from those
     * that are: page by page, since which members are lost can differ from one page to the next.
     * Every page must be recoverable ({@link #unrecoverable}).
     */
    private void rebuild(StripeHead sh, int cols) {
        int rest = cols;
        while (rest != 0) {
            // a run of pages with the same members lost
            int first = Integer.numberOfTrailingZeros(rest);
            long lost = lostAt(sh, first);
            int end = first + 1;
            while ((rest & (1 << end)) != 0 && lostAt(sh, end) == lost) {
                end++;
            }
            math.rebuild(sh.pattern, lost, sh.pages, (long) first * StripeGeometry.PAGE_BYTES,
                (long) (end - first) * StripeGeometry.PAGE_BYTES);
            rest &= ~(((1 << (end - first)) - 1) << first);
        }
        for (int m = 0; m < members; m++) {
            sh.uptodate[m] |= cols;
        }
    }

    private boolean lostOnlyWhereBad(StripeHead sh, long lost, int page) {
        long failed = engine.failedMembers(sh.key);
        for (int m = 0; m < members; m++) {
            if ((lost & (1L << m)) != 0 && (bad(sh, m, failed) & (1 << page)) == 0) {
                return false;
            }
        }
        return true;
    }

    /** The members whose page {@code page} is not up to date. */
    private long lostAt(StripeHead sh, int page) {
        long out = 0;
        for (int m = 0; m < members; m++) {
            if ((sh.uptodate[m] & (1 << page)) == 0) {
                out |= 1L << m;
            }
        }
        return out;
    }

    // ---- member I/O ----

    /**
     * Issues {@code op} for every page in {@code need}, one member I/O per run of pages. Returns
     * true if any was issued (the stripe is queued again when the last ends), false if none was
     * needed. The op moves to READING or WRITING.
     */
    private boolean issue(StripeHead sh, StripeOp op, Bio.Op bioOp, int flags) {
        return issue(sh, op, bioOp, flags, false);
    }

    /** {@code pagewise}: one bio per page rather than per run of pages (so a failure names its page). */
    private boolean issue(StripeHead sh, StripeOp op, Bio.Op bioOp, int flags, boolean pagewise) {
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
        sh.pagewise = pagewise;
        for (int m = 0; m < members; m++) {
            sh.readErrorPages.set(m, 0);
        }
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
            RunVisitor submit = (from, len) -> {
                sh.ioPending.incrementAndGet();
                plug.add(mm, member.device(), new Bio(bioOp, member.dataOffsetBytes() + base + from, len,
                    from0.asSlice(from, len), flags, sh, sh.memberCallbacks[mm]));
            };
            if (pagewise) {
                for (int rest = pages; rest != 0; rest &= rest - 1) {
                    submit.run((long) Integer.numberOfTrailingZeros(rest) * StripeGeometry.PAGE_BYTES, StripeGeometry.PAGE_BYTES);
                }
            } else {
                forEachRun(pages, submit);
            }
        }
        java.util.Arrays.fill(writeFrom, null);
        if (sh.ioPending.decrementAndGet() == 0) {
            engine.queueForHandling(sh); // all ended already
        }
        return true;
    }

    /**
     * Read phase over: what arrived is up to date. A page whose one-page read failed is lost for
     * this op on that member (failedPages); the pages of a failed read of several pages are read
     * again one by one first (suspectPages), since one bad sector fails the whole bio.
     */
    private void absorbReads(StripeHead sh, StripeOp op) {
        sh.ioErrors.set(0); // the pages that failed are in readErrorPages
        for (int m = 0; m < members; m++) {
            int asked = sh.readMask[m];
            if (asked == 0) {
                continue;
            }
            int errors = sh.readErrorPages.getAndSet(m, 0) & asked;
            Member member = engine.member(m);
            if (member != null && errors != asked) {
                member.readSucceeded();
            }
            if (errors != 0) {
                engine.readFailed(member);
                int exact = sh.pagewise ? asked : asked & ~(asked << 1) & ~(asked >>> 1); // one-page bios
                sh.failedPages[m] |= errors & exact;
                sh.suspectPages[m] |= errors & ~exact;
            }
            sh.uptodate[m] |= asked & ~errors;
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

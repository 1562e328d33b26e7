package io.jmd.md.stripe;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BioCallback;
import io.jmd.block.Errno;
import io.jmd.mem.MemPool;
import io.jmd.md.MdArray;
import io.jmd.md.MdException;
import io.jmd.md.Member;
import io.jmd.md.MemberState;
import io.jmd.md.Personality;
import io.jmd.md.format.Superblock1;
import io.jmd.md.parity.Parity;
import io.jmd.md.parity.ParityKernels;
import io.jmd.sync.DependencyChecker;

import java.util.BitSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongConsumer;

/**
 * RAID4/5/6's I/O path, as raid5.c: the personality the three levels share. Each level's package
 * gives the placement ({@link ParityLayout}); this class cuts requests into per-stripe ops, the
 * {@link StripeMachine} serves them on the md thread from the {@link StripeCache}.
 *
 * <ul>
 *   <li>Reads of a working data member go straight to it (md's chunk-aligned read), one member I/O
 *       per stripe unit, bypassing the cache; a failed one is served again through the stripe,
 *       which rebuilds the data from the other members. Reads of a missing member go through the
 *       stripe from the start (degraded read). A member being rebuilt works for the stripes below
 *       its recovery checkpoint ({@link #failedMembers(long)}): reads, read-modify-write and
 *       reconstruct-write use it there as any member in sync; it gets every write.</li>
 *   <li>Writes and write-zeroes go through the stripe: the writes queued on a stripe are served
 *       as one batch (md drains a stripe's towrite lists together); full-stripe batches compute
 *       parity from the new data alone; others read what read-modify-write or reconstruct-write
 *       needs, whichever reads less (handle_stripe_dirtying), then write data and parity. A
 *       partial stripe of a sequential stream that would have to read waits, bounded, for the
 *       stream's next write ({@link StripeDelays}, md's delayed list), so streams of writes that
 *       are not row-aligned still become full-stripe writes. A full-stripe batch on a complete
 *       array whose every data block comes whole from one request writes the data from the
 *       request's buffer and only parity through the stripe (its data pages are then not up to
 *       date: nothing is cached of them).</li>
 *   <li>Flushes go to every working member. Discards end at once without effect: md passes them to
 *       raid5 members only when devices are known to return zeroes after a discard
 *       (devices_handle_discard_safely), which jmd cannot know.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * Submitters cut requests and wait for pool items and stripes; the md thread runs every stripe's
 * state machine, so a stripe's pages and state (also its delay state and the delayed list) have
 * one owner; member I/O callbacks and the delay timer only count down, queue the stripe and wake
 * the md thread. The md thread never waits for memory: it takes no pool item and gets stripes
 * with {@link StripeCache#tryGet}. Member bios the md thread issues in a pass are plugged
 * ({@link MemberPlug}) and handed to the members when the pass ends, before it sleeps.
 *
 * <h2>Pools, and why their reserves are enough</h2>
 * <pre>
 *   requests: reserve 1 StripeRequest     ops: reserve 1 StripeOp     stripes: see StripeCache
 *   A submitter holds one StripeRequest. For each stripe unit it allocates one StripeOp, gets a
 *   stripe and attaches the op (the op now holds the stripe), or submits a direct read, before it
 *   asks for the next op (seed 002): it never holds an op or a stripe while it waits. An op is done
 *   with member I/O and md thread work alone, then it frees its stripe and itself. A failed direct
 *   read becomes a stripe op on the md thread, reusing its item; its stripe comes from tryGet,
 *   retried on every md thread pass (stripes come free as ops finish). A delayed stripe holds its
 *   ops only until its deadline (or a flush), and at most a quarter of the cache waits at once,
 *   so delays postpone but never block that. So one item of each pool and one stripe let every
 *   request finish.
 * </pre>
 */
public abstract class StripeEngine implements Personality {
    /** Budget cost of a request's and an op's state: object headers and fields, generous. */
    static final long REQUEST_BYTES = 256;
    static final long OP_BYTES = 256;
    /** Stripes the md thread handles per pass before it lets superblock work run. */
    static final int HANDLE_PER_PASS = 256;
    /** Sequential write streams remembered at once (ends of the last writes). */
    static final int RECENT_STREAMS = 16;
    /** jmd tracks working members in a long. */
    public static final int MAX_RAID_DISKS = 64;

    protected final MdArray array;
    protected final Env env;
    final ParityLayout layout;
    final StripeGeometry geometry;
    final Member[] slots;
    private final AtomicLong workingSlots = new AtomicLong();
    final ParityKernels kernels = Parity.kernels();
    private final MemPool<StripeRequest> requests;
    private final MemPool<StripeOp> ops;
    final StripeCache cache;
    private final StripeDelays delays;
    private final StripeMachine machine;
    /** Ends of recent writes: a write starting at one continues a sequential stream. */
    private final AtomicLongArray recentWriteEnds = new AtomicLongArray(RECENT_STREAMS);
    private final AtomicInteger nextRecent = new AtomicInteger();
    /** Writes submitted so far (their sequence numbers). */
    private final AtomicLong writesSubmitted = new AtomicLong();
    /** Writes up to this sequence number were submitted before a flush: they no longer wait. */
    private final AtomicLong flushedWrites = new AtomicLong();
    /** Stripes with work for the md thread; a stripe is in it at most once ({@code queued}). */
    private final ConcurrentLinkedQueue<StripeHead> handleQueue = new ConcurrentLinkedQueue<>();
    /** Failed direct reads waiting for a stripe; md thread only. */
    private final ConcurrentLinkedQueue<StripeOp> conversions = new ConcurrentLinkedQueue<>();
    /** Writes held until the failure of a member they skipped is on disk. */
    private final io.jmd.md.HeldWrites<StripeRequest> held;
    private final BioCallback directDone = this::directDone;
    /** Online resync, recovery, check and repair (md's raid5_sync_request). */
    private final StripeSync sync;

    protected StripeEngine(MdArray array, ParityLayout layout) {
        this.array = array;
        this.held = new io.jmd.md.HeldWrites<>(array, r -> endRequest(r, Errno.OK));
        this.env = array.env();
        this.layout = layout;
        Superblock1 sb = array.superblock();
        if (sb.raidDisks() > MAX_RAID_DISKS) {
            throw new IllegalArgumentException(layout.levelName() + " with " + sb.raidDisks() + " devices (jmd supports up to "
                + MAX_RAID_DISKS + ")");
        }
        this.geometry = new StripeGeometry(layout, sb.chunkSectors() * 512L, sb.sizeSectors() * 512);
        this.slots = new Member[sb.raidDisks()];
        for (Member m : array.members()) {
            boolean holdsSlot = m.state() == MemberState.IN_SYNC || m.state() == MemberState.RECOVERING;
            if (holdsSlot && m.slot() >= 0 && m.slot() < slots.length) {
                slots[m.slot()] = m; // a member being rebuilt gets writes, and reads once in sync
                if (m.isInSync()) {
                    workingSlots.getAndUpdate(w -> w | (1L << m.slot()));
                }
            }
        }
        this.cache = new StripeCache(env, array.name(), slots.length, geometry.unitBytes(),
            key -> layout.pattern(geometry.rowOf(key)), this::memberCallback, StripeCache.DEFAULT_STRIPES);
        this.requests = new MemPool<>(env.scheduler(), env.budget(), array.name() + " stripe requests", 1, REQUEST_BYTES, 0,
            StripeRequest::new);
        this.ops = new MemPool<>(env.scheduler(), env.budget(), array.name() + " stripe ops", 1, OP_BYTES, 0, StripeOp::new);
        this.delays = new StripeDelays(env, cache, array::wakeMdThread);
        this.machine = new StripeMachine(this, delays);
        for (int i = 0; i < RECENT_STREAMS; i++) {
            recentWriteEnds.set(i, -1);
        }
        this.sync = new StripeSync(this);
    }

    public ParityLayout layout() {
        return layout;
    }

    public StripeGeometry geometry() {
        return geometry;
    }

    @Override
    public long sizeBytes() {
        return geometry.arrayBytes();
    }

    /** md's stripe_cache_size: stripes in the cache now. */
    public int stripeCacheSize() {
        return cache.size();
    }

    /**
     * Changes md's stripe_cache_size while the array runs (sysfs stripe_cache_size). Grows as far
     * as a quarter of the memory budget allows; shrinks at once as far as stripes are free, the
     * rest as they come free. Returns the size in force.
     *
     * @throws IllegalArgumentException outside 4..32768 (md: 17..32768)
     */
    public int setStripeCacheSize(int stripes) {
        return cache.resize(stripes);
    }

    /**
     * How write batches (the writes queued on one stripe, served together) were served so far:
     * {read-modify-write, reconstruct-write, of which degraded (missing blocks rebuilt first), of
     * the reconstruct-writes those that wrote every data page (full stripe), times a partial
     * stripe was delayed for writes likely to follow}. For reports and tests.
     */
    public long[] writePlanCounts() {
        return new long[] {machine.rmwWrites, machine.rcwWrites, machine.degradedWrites, machine.fullStripeWrites,
            machine.delayedWrites};
    }

    /**
     * For tests: the longest a partial stripe of a sequential stream waits for the writes that
     * would complete it (default {@link StripeDelays#DELAY_NANOS}); 0: never.
     */
    public void setPartialStripeDelayNanos(long nanos) {
        delays.setDelayNanos(nanos);
    }

    /** Stripes with ops right now (diagnostics, tests). */
    public int activeStripes() {
        return cache.active();
    }

    /** Members missing, failed or being rebuilt, one bit per slot. */
    final long failedMembers() {
        return ~workingSlots.get() & ((1L << slots.length) - 1);
    }

    /**
     * The members that cannot serve stripe {@code key}: as {@link #failedMembers()}, except that a
     * member being rebuilt serves the stripes that lie wholly below its recovery checkpoint (md's
     * analyse_stripe: not In_sync but recovery_offset &gt;= the stripe's end counts as in sync).
     * The checkpoint ({@link Member#recoveryOffsetBytes}) only moves to where every sync window
     * below has written the member (SyncRun's doneBytes, as md moves rdev->recovery_offset to
     * curr_resync_completed), and normal writes reach the member all along, so it holds current
     * data there. A checkpoint only grows while the member recovers; a member that fails drops out.
     */
    final long failedMembers(long key) {
        long failed = failedMembers();
        if (failed == 0) {
            return 0;
        }
        long end = geometry.memberOffset(key) + geometry.unitBytes();
        for (long rest = failed; rest != 0; rest &= rest - 1) {
            int s = Long.numberOfTrailingZeros(rest);
            if (rebuiltUpTo(slots[s], end)) {
                failed &= ~(1L << s);
            }
        }
        return failed;
    }

    /**
     * Whether {@code m} holds a slot's current data below member byte {@code end}: being rebuilt
     * and past it (or just made in sync, its checkpoint not yet cleared: see Redundancy.syncEnded).
     */
    static boolean rebuiltUpTo(Member m, long end) {
        if (m == null) {
            return false;
        }
        MemberState s = m.state();
        return (s == MemberState.RECOVERING || s == MemberState.IN_SYNC) && m.recoveryOffsetBytes() >= end;
    }

    // ---- submission (submitter threads: may wait for items and stripes) ----

    @Override
    public void submit(Bio bio) {
        StripeRequest r = requests.alloc();
        r.init(bio);
        switch (bio.op) {
            case READ -> submitReads(r);
            case WRITE, WRITE_ZEROES -> submitWrites(r);
            case FLUSH -> submitFlush(r);
            case DISCARD -> { } // no effect: see the class comment
        }
        requests.handOff(r);
        if (r.remaining.decrementAndGet() == 0) {
            finish(r);
        }
    }

    private void submitReads(StripeRequest r) {
        Bio p = r.parent;
        long end = p.offsetBytes + p.lengthBytes;
        int unit = geometry.unitBytes();
        for (long pos = p.offsetBytes; pos < end; ) {
            long key = geometry.keyOf(pos);
            int k = geometry.dataIndexOf(pos);
            long cellStart = geometry.cellStart(key, k);
            long to = Math.min(end, cellStart + unit);
            StripeOp op = ops.alloc();
            op.init(r, StripeOp.Kind.READ, key);
            op.dataIndex = k;
            op.fromArray = pos;
            op.toArray = to;
            r.remaining.incrementAndGet();
            int member = layout.pattern(geometry.rowOf(key)).dataMember()[k];
            if ((failedMembers(key) & (1L << member)) == 0) {
                op.kind = StripeOp.Kind.DIRECT_READ;
                op.member = member;
                ops.handOff(op);
                issueDirect(op, pos - cellStart);
            } else {
                attach(op); // degraded read: the stripe rebuilds it
            }
            pos = to;
        }
    }

    private void issueDirect(StripeOp op, long offsetInUnit) {
        Bio p = op.request.parent;
        Member m = slots[op.member];
        long at = m.dataOffsetBytes() + geometry.memberOffset(op.key) + offsetInUnit;
        long len = op.toArray - op.fromArray;
        m.device().submit(new Bio(Bio.Op.READ, at, len, p.data.asSlice(op.fromArray - p.offsetBytes, len), 0, op,
            directDone));
    }

    /** One op per stripe unit the write touches, in array order (md's make_request loop). */
    private void submitWrites(StripeRequest r) {
        Bio p = r.parent;
        long start = p.offsetBytes;
        long end = start + p.lengthBytes;
        r.sequential = continuesAStream(start, end);
        r.writeSeq = writesSubmitted.incrementAndGet();
        long rowBytes = geometry.chunkBytes() * geometry.dataDisks();
        int units = geometry.unitsPerChunk();
        BitSet touched = new BitSet(units);
        for (long row = start / rowBytes; row * rowBytes < end; row++) {
            long a = Math.max(start, row * rowBytes) - row * rowBytes;
            long b = Math.min(end, (row + 1) * rowBytes) - row * rowBytes;
            touched.clear();
            for (long c = a / geometry.chunkBytes(); c * geometry.chunkBytes() < b && touched.cardinality() < units; c++) {
                long lo = Math.max(a, c * geometry.chunkBytes()) - c * geometry.chunkBytes();
                long hi = Math.min(b, (c + 1) * geometry.chunkBytes()) - c * geometry.chunkBytes();
                touched.set((int) (lo / geometry.unitBytes()), (int) ((hi - 1) / geometry.unitBytes()) + 1);
            }
            for (int j = touched.nextSetBit(0); j >= 0; j = touched.nextSetBit(j + 1)) {
                StripeOp op = ops.alloc();
                op.init(r, StripeOp.Kind.WRITE, row * units + j);
                r.remaining.incrementAndGet();
                attach(op);
            }
        }
    }

    /** Whether a write was submitted before a flush that followed it: it must not be delayed. */
    final boolean flushedSince(StripeRequest r) {
        return r.writeSeq <= flushedWrites.get();
    }

    /** Whether a write starts where a recent one ended; remembers where this one ends. */
    private boolean continuesAStream(long start, long end) {
        boolean continues = false;
        for (int i = 0; i < RECENT_STREAMS && !continues; i++) {
            continues = recentWriteEnds.get(i) == start;
        }
        recentWriteEnds.set(Math.floorMod(nextRecent.getAndIncrement(), RECENT_STREAMS), end);
        return continues;
    }

    /** Gets the op's stripe (waiting if none is free) and queues the op on it; the op owns the reference. */
    private void attach(StripeOp op) {
        StripeHead sh = cache.get(op.key);
        op.stripe = sh;
        ops.handOff(op);
        sh.incoming.add(op);
        queueForHandling(sh);
    }

    private void submitFlush(StripeRequest r) {
        // writes sent before the flush neither wait out a delay nor begin one
        flushedWrites.accumulateAndGet(writesSubmitted.get(), Math::max);
        delays.releaseAll();
        for (Member m : slots) {
            if (m == null || m.state() == MemberState.FAULTY) {
                continue;
            }
            r.remaining.incrementAndGet();
            m.device().submit(new Bio(Bio.Op.FLUSH, 0, 0, null, 0, r, bio -> flushDone(bio, m)));
        }
    }

    // ---- completions (I/O threads: never block) ----

    private void directDone(Bio bio) {
        StripeOp op = (StripeOp) bio.owner;
        if (bio.status() == Errno.OK) {
            slots[op.member].readSucceeded();
            opDone(op);
            return;
        }
        // md's raid5_align_endio: retry through the stripe, which rebuilds what the member lost
        readFailed(slots[op.member]);
        op.kind = StripeOp.Kind.READ;
        op.directFailed = true;
        conversions.add(op);
        array.wakeMdThread();
    }

    /**
     * Counts a failed read of {@code m}. raid5_end_read_request fails a member only when its read
     * errors since its last good read pass max_nr_stripes (the stripe cache size): a disk with
     * scattered bad sectors keeps serving, each bad page rebuilt and rewritten, however many there
     * are over its life; one that stopped reading is failed. (raid1/raid10's max_read_errors is
     * theirs alone.) A rewritten page that still does not read fails the member at once
     * (StripeMachine's fix step), as md does without a bad-block log.
     */
    final void readFailed(Member m) {
        if (m != null && m.countReadError() > cache.size()) {
            array.memberError(m);
        }
    }

    /**
     * A failed flush fails the member as a failed write does (raid1 too): the array's flush then
     * succeeds once that is recorded, unless the array cannot lose the member (found by the
     * simulator: a member dying under a flush failed the array's flush, though it ran degraded).
     */
    private void flushDone(Bio bio, Member m) {
        StripeRequest r = (StripeRequest) bio.owner;
        if (bio.status() != Errno.OK) {
            m.countWriteError();
            if (array.memberError(m)) {
                r.memberFailed = true;
            } else if (r.error == 0) {
                r.error = bio.status();
            }
        }
        if (r.remaining.decrementAndGet() == 0) {
            finish(r);
        }
    }

    private BioCallback memberCallback(StripeHead sh, int member) {
        long bit = 1L << member;
        return bio -> {
            if (bio.status() != Errno.OK) {
                sh.ioErrors.getAndUpdate(e -> e | bit);
                if (bio.op == Bio.Op.READ) {
                    // which pages: a stripe read lands in the member's page buffer at its place in the unit
                    long from = bio.data.address() - sh.pages[member].address();
                    int pages = StripeGeometry.pageMask(from, from + bio.lengthBytes);
                    sh.readErrorPages.getAndAccumulate(member, pages, (a, b) -> a | b);
                }
            }
            if (sh.ioPending.decrementAndGet() == 0) {
                queueForHandling(sh);
            }
        };
    }

    /** Puts a stripe on the md thread's list (once) and wakes it. Never blocks. */
    final void queueForHandling(StripeHead sh) {
        if (sh.queued.compareAndSet(false, true)) {
            handleQueue.add(sh);
        }
        array.wakeMdThread();
    }

    /** An op is over: its result goes to its request, its item back to the pool. Never blocks. */
    final void opDone(StripeOp op) {
        StripeRequest r = op.request;
        if (op.status != Errno.OK && r.error == 0) {
            r.error = op.status;
        }
        if (op.memberFailed) {
            r.memberFailed = true;
        }
        op.request = null;
        op.stripe = null;
        ops.free(op);
        if (r.remaining.decrementAndGet() == 0) {
            finish(r);
        }
    }

    private void finish(StripeRequest r) {
        if (r.error != 0) {
            endRequest(r, r.error);
        } else if (r.memberFailed) {
            held.hold(r);
        } else {
            endRequest(r, Errno.OK);
        }
    }

    private void endRequest(StripeRequest r, int status) {
        Bio parent = r.parent;
        r.parent = null;
        requests.free(r);
        DependencyChecker.runAtomic(env.scheduler().current(), () -> parent.end(status));
    }

    // ---- md thread ----

    @Override
    public void mdThreadWork() {
        convertFailedDirectReads();
        int handled = 0;
        StripeHead sh;
        while (handled < HANDLE_PER_PASS && (sh = handleQueue.poll()) != null) {
            sh.queued.set(false);
            machine.handle(sh);
            handled++;
        }
        machine.unplug();
        convertFailedDirectReads(); // stripes freed by this pass
        delays.releaseDue(this::queueForHandling);
        endHeld();
        if (!handleQueue.isEmpty()) {
            array.wakeMdThread(); // more next pass, after the array's superblock work
        }
    }

    private void convertFailedDirectReads() {
        StripeOp op;
        while ((op = conversions.peek()) != null) {
            StripeHead sh = cache.tryGet(op.key);
            if (sh == null) {
                return; // every stripe is busy: retried when the md thread runs again
            }
            conversions.poll();
            op.stripe = sh;
            sh.incoming.add(op);
            queueForHandling(sh);
        }
    }

    /** The member in {@code slot}, or null if it is missing. */
    final Member member(int slot) {
        return slots[slot];
    }

    final MdArray array() {
        return array;
    }

    @Override
    public void superblockWritten() {
        endHeld();
    }

    /** Ends the held writes whose failure record is on disk (md thread). */
    private void endHeld() {
        held.releaseWritten();
    }

    // ---- membership ----

    @Override
    public boolean tryFail(Member m) {
        if (m.slot() < 0 || m.slot() >= slots.length || slots[m.slot()] != m) {
            return true; // holds no slot's data
        }
        long bit = 1L << m.slot();
        while (true) {
            long w = workingSlots.get();
            if ((w & bit) == 0) {
                return true;
            }
            if (Long.bitCount(w) - 1 < slots.length - layout.maxDegraded()) {
                return false; // one more loss than the parity can cover: the error goes up instead
            }
            if (workingSlots.compareAndSet(w, w & ~bit)) {
                return true;
            }
        }
    }

    @Override
    public boolean canRun() {
        return Long.bitCount(workingSlots.get()) >= slots.length - layout.maxDegraded();
    }

    @Override
    public boolean isOptimal() {
        return Long.bitCount(workingSlots.get()) == slots.length;
    }

    /** Whether a member is missing or failed. */
    public boolean isDegraded() {
        return !isOptimal();
    }

    @Override
    public String status() {
        StringBuilder sb = new StringBuilder();
        sb.append("level ").append(array.superblock().level()).append(", ").append(geometry.chunkBytes() / 1024)
            .append("k chunk, algorithm ").append(array.superblock().layout()).append(" [").append(slots.length).append('/')
            .append(Long.bitCount(workingSlots.get())).append("] [");
        for (Member m : slots) {
            sb.append(m != null && m.isInSync() ? 'U' : '_');
        }
        return sb.append(']').toString();
    }

    // ---- online sync and member changes (StripeSync; as raid1's) ----

    @Override
    public io.jmd.md.resync.SyncLevel syncLevel() {
        return sync;
    }

    /** Members no write goes to: missing or faulty slots (members being rebuilt get writes). */
    final long unwritableMembers() {
        long out = 0;
        for (int s = 0; s < slots.length; s++) {
            Member m = slots[s];
            if (m == null || m.state() == MemberState.FAULTY) {
                out |= 1L << s;
            }
        }
        return out;
    }

    /**
     * Whether the parity of stripe {@code key} may not match its data yet: the array was not shut
     * down clean and the resync has not passed the stripe (md: sh->sector >= recovery_cp).
     */
    final boolean parityMayDiffer(long key) {
        long done = array.resyncDoneSectors();
        return done != io.jmd.md.format.Superblock1Layout.MAX_SECTOR
            && geometry.memberOffset(key) + geometry.unitBytes() > done * 512;
    }

    @Override
    public boolean allSlotsWritable() {
        return unwritableMembers() == 0;
    }

    @Override
    public void attachMember(Member m, int slot) {
        assert slot >= 0 && slot < slots.length : "slot " + slot;
        assert slots[slot] == null || slots[slot].state() == MemberState.FAULTY : "slot " + slot + " is held";
        slots[slot] = m; // the array is quiesced: every request admitted after sees it
    }

    @Override
    public void memberInSync(Member m) {
        assert slots[m.slot()] == m : m + " is not in its slot";
        workingSlots.getAndUpdate(w -> w | (1L << m.slot()));
    }

    @Override
    public void detachMember(Member m) {
        int slot = m.slot();
        if (slot >= 0 && slot < slots.length && slots[slot] == m) {
            slots[slot] = null;
            workingSlots.getAndUpdate(w -> w & ~(1L << slot));
        }
    }

    /**
     * md's "check" action, offline: compares every row's parity with its data and returns the
     * mismatched sectors (mismatch_cnt), writing nothing. Only on an idle, complete array.
     */
    public long checkParity() throws MdException {
        if (isDegraded()) {
            throw new MdException("cannot check the parity of a degraded " + layout.levelName() + " array");
        }
        return ParityResync.check(env, this);
    }

    /** Whether md refuses to start this array: dirty (not shut down clean) and degraded. */
    @Override
    public boolean isDirtyDegraded() {
        return array.needsResync() && isDegraded();
    }

    @Override
    public void stop() {
        assert handleQueue.isEmpty() : "stripes left to handle at stop";
        assert conversions.isEmpty() : "reads left to convert at stop";
        assert held.isEmpty() : "held writes left at stop";
        delays.clear();
        cache.close();
        requests.close();
        ops.close();
    }
}

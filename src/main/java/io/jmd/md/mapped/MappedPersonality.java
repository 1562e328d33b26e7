package io.jmd.md.mapped;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BioCallback;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.mem.MemPool;
import io.jmd.md.MdArray;
import io.jmd.md.Member;
import io.jmd.md.MemberState;
import io.jmd.md.Personality;
import io.jmd.sync.DependencyChecker;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The I/O path of the levels that only map: linear, raid0 and raid10. A request is cut into
 * pieces that each lie in one place (a chunk, a member's range); every piece has one or more
 * copies (raid10's near/far copies, one elsewhere). Reads go to one copy and are retried on the
 * next by the md thread if they fail; writes, write-zeroes and discards go to every working copy;
 * a flush goes to every working member.
 *
 * <p>Failures: a read that failed on a copy and then succeeded on another has the good data
 * written back to the failed copy and read again there before it ends ({@link MappedReadFix}).
 * A write error fails the member if the array can lose it ({@link #tryFail}: the
 * level decides), and the write then ends only after the superblock recording it is on disk (as
 * raid1). If the member cannot be lost (no other copy of some data: always so for linear and
 * raid0), the request fails with the error instead.
 *
 * <h2>Pools, and why their reserves are enough</h2>
 * <pre>
 *   requests:   reserve 1 MappedRequest
 *   member I/O: reserve maxCopies MappedIo
 *   A submitter holds one MappedRequest and allocates MappedIo one at a time, submitting each
 *   before it asks for the next (seed 002), so it never holds one while it waits. A MappedIo comes
 *   back when its member I/O ends, which depends only on the member device. A read retry reuses
 *   its MappedIo on the md thread, which never allocates. So one item of each lets one request
 *   finish; maxCopies lets the copies of one piece all be in flight on reserve memory.
 * </pre>
 */
public abstract class MappedPersonality implements Personality {
    /** Budget cost of a request's state: object, atomics, the parent's fields: generous. */
    static final long REQUEST_BYTES = 256;

    protected final MdArray array;
    protected final Env env;
    protected final Member[] slots;
    private final AtomicLong workingSlots = new AtomicLong();
    private final int maxCopies;
    private final MemPool<MappedRequest> requests;
    private final MemPool<MappedIo> memberIos;
    /** Reads to retry on another copy; consumed by the md thread only. */
    private final ConcurrentLinkedQueue<MappedIo> retries = new ConcurrentLinkedQueue<>();
    /** Writes held until the failure of a member they skipped is on disk. */
    private final io.jmd.md.HeldWrites<MappedRequest> held;
    private final BioCallback memberDone = this::memberDone;
    /** fix_read_error: copies a read failed on are rewritten from the one it succeeded on (null: one copy only). */
    private final MappedReadFix readFix;

    protected MappedPersonality(MdArray array, int maxCopies) {
        this.array = array;
        this.held = new io.jmd.md.HeldWrites<>(array, r -> endRequest(r, Errno.OK));
        this.env = array.env();
        int raidDisks = array.superblock().raidDisks();
        if (raidDisks < 1 || raidDisks > 64) {
            throw new IllegalArgumentException(array.superblock().raidLevel().mdadmName() + " with " + raidDisks
                + " devices (jmd supports 1..64)");
        }
        this.maxCopies = maxCopies;
        this.slots = new Member[raidDisks];
        for (Member m : array.members()) {
            // a member being rebuilt (assembled with a recovery_offset: raid10) holds its slot and
            // gets writes; it is read only once in sync
            boolean holds = m.state() == MemberState.IN_SYNC || m.state() == MemberState.RECOVERING;
            if (holds && m.slot() >= 0 && m.slot() < raidDisks) {
                slots[m.slot()] = m;
                if (m.isInSync()) {
                    workingSlots.getAndUpdate(w -> w | (1L << m.slot()));
                }
            }
        }
        this.requests = new MemPool<>(env.scheduler(), env.budget(), array.name() + " requests", 1, REQUEST_BYTES, 0,
            MappedRequest::new);
        this.memberIos = new MemPool<>(env.scheduler(), env.budget(), array.name() + " member io", maxCopies,
            64 + 16L * maxCopies, 0, () -> new MappedIo(maxCopies));
        this.readFix = maxCopies > 1 ? new MappedReadFix(array, slots, this::endPiece) : null;
    }

    /**
     * Maps the piece starting at array byte {@code offsetBytes}: fills the copies' slots and
     * member byte offsets (from the data offset), returns how many copies there are and sets
     * {@code lengthOut[0]} to the piece's length (at most {@code lengthBytes}, more than 0).
     */
    protected abstract int map(long offsetBytes, long lengthBytes, int[] devices, long[] memberOffsets, long[] lengthOut);

    /** Whether the array keeps all its data with only the slots in {@code working}. */
    protected abstract boolean survives(long working);

    protected final long workingSlots() {
        return workingSlots.get();
    }

    /** Gives {@code slot} to {@code m} (a spare to rebuild); with the array quiesced. */
    protected final void holdSlot(int slot, Member m) {
        assert slots[slot] == null || slots[slot].state() == MemberState.FAULTY : "slot " + slot + " is held";
        slots[slot] = m; // every request admitted after the quiesce sees it
    }

    /** {@code m}'s slot serves reads from now on (it is in sync). */
    protected final void slotInSync(Member m) {
        assert slots[m.slot()] == m : m + " is not in its slot";
        workingSlots.getAndUpdate(w -> w | (1L << m.slot()));
    }

    /** {@code m} gives up its slot; with the array quiesced. */
    protected final void releaseSlot(Member m) {
        int slot = m.slot();
        if (slot >= 0 && slot < slots.length && slots[slot] == m) {
            slots[slot] = null;
            workingSlots.getAndUpdate(w -> w & ~(1L << slot));
        }
    }

    /** Whether every slot is held by a member that gets writes (in sync or being rebuilt). */
    protected final boolean everySlotWritable() {
        for (Member m : slots) {
            if (m == null || m.state() == MemberState.FAULTY) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void submit(Bio bio) {
        MappedRequest r = requests.alloc();
        r.init(bio);
        if (bio.op == Bio.Op.FLUSH) {
            submitFlush(r);
        } else {
            submitPieces(r);
        }
        requests.handOff(r);
        if (r.remaining.decrementAndGet() == 0) {
            finish(r);
        }
    }

    private void submitFlush(MappedRequest r) {
        for (Member m : slots) {
            if (m == null || m.state() == MemberState.FAULTY) {
                continue;
            }
            MappedIo io = memberIos.alloc();
            io.init(r, 0, 0);
            io.devices[0] = m.slot();
            io.copies = 1;
            io.current = 0;
            r.remaining.incrementAndGet();
            memberIos.handOff(io);
            issue(io); // at once: the item goes back to the pool when it ends (seed 002)
        }
    }

    private void submitPieces(MappedRequest r) {
        Bio p = r.parent;
        long[] length = new long[1];
        for (long done = 0; done < p.lengthBytes; done += length[0]) {
            MappedIo io = memberIos.alloc();
            io.init(r, done, 0);
            io.copies = map(p.offsetBytes + done, p.lengthBytes - done, io.devices, io.memberOffsets, length);
            assert io.copies >= 1 && io.copies <= maxCopies : "copies " + io.copies;
            assert length[0] > 0 && length[0] <= p.lengthBytes - done && length[0] % 512 == 0 : "piece length " + length[0];
            io.lengthBytes = length[0];
            if (p.op == Bio.Op.READ) {
                submitRead(r, io);
            } else {
                submitWriteCopies(r, io);
            }
        }
    }

    private void submitRead(MappedRequest r, MappedIo io) {
        r.remaining.incrementAndGet();
        memberIos.handOff(io);
        if (readFix != null && !array.isReadOnly() && copiesMayDiffer(io)) {
            readFix.queueSyncRead(io); // ends the piece once every copy holds what it read
            return;
        }
        if (!chooseReadCopy(io)) {
            endPiece(io, Errno.EIO);
            return;
        }
        issue(io);
    }

    /** One item per copy: the first copy uses {@code first}, the others fresh items, each issued at once. */
    private void submitWriteCopies(MappedRequest r, MappedIo first) {
        MappedIo io = first;
        int copies = first.copies;
        int[] devices = first.devices.clone();
        long[] offsets = first.memberOffsets.clone();
        boolean any = false;
        for (int c = 0; c < copies; c++) {
            Member m = slots[devices[c]];
            if (m == null || m.state() == MemberState.FAULTY) {
                if (m != null && !m.isFaultRecorded()) {
                    // This copy misses the write: end only once its failure is on disk, or a crash
                    // brings it back in sync and the resync copies its old data over the write
                    // (found by jmd sim --seed 408 --ops 1500 --level raid10; raid1 always did).
                    r.memberFailed = true;
                }
                continue;
            }
            if (io == null) {
                io = memberIos.alloc();
                io.init(r, first.pieceOffsetBytes, first.lengthBytes);
            }
            io.devices[0] = devices[c];
            io.memberOffsets[0] = offsets[c];
            io.copies = 1;
            io.current = 0;
            r.remaining.incrementAndGet();
            memberIos.handOff(io);
            issue(io);
            io = null;
            any = true;
        }
        if (!any) {
            // every copy is gone (assembly refuses such an array; a race with failures may get here)
            r.error = Errno.EIO;
        }
        if (io != null) {
            memberIos.free(io);
        }
    }

    private void issue(MappedIo io) {
        Bio p = io.request.parent;
        Member m = slots[io.devices[io.current]];
        if (p.op == Bio.Op.FLUSH) {
            m.device().submit(new Bio(Bio.Op.FLUSH, 0, 0, null, 0, io, memberDone));
            return;
        }
        long offset = m.dataOffsetBytes() + io.memberOffsets[io.current];
        MemorySegment data = p.data == null ? null : p.data.asSlice(io.pieceOffsetBytes, io.lengthBytes);
        m.ioStarted(offset + io.lengthBytes);
        m.device().submit(new Bio(p.op, offset, io.lengthBytes, data, p.flags, io, memberDone));
    }

    /**
     * Whether a resync has yet to make the piece's copies agree. Even with one copy left in sync
     * the read goes through the read fix's frozen path: a resync window may have read another
     * copy before its member failed and be about to write that read over the copy left, so a
     * read beside it would show a value the next read no longer finds (md: a raid10 read holds
     * wait_barrier from its start to its end, so it never runs beside a sync window of its region).
     */
    private boolean copiesMayDiffer(MappedIo io) {
        io.jmd.md.Redundancy red = array.redundancy();
        return io.copies > 1 && red != null
            && red.readFromFirst(io.request.parent.offsetBytes + io.pieceOffsetBytes, io.lengthBytes);
    }

    /**
     * Whether {@code m} holds current data for [{@code memberOffsetBytes}, + {@code lengthBytes}):
     * in sync, or being rebuilt and past its end (raid10.c read_balance skips a not-In_sync rdev
     * only while recovery_offset < dev_sector + sectors). The checkpoint is a member offset below
     * which every copy on the member was rebuilt, and normal writes reach the member all along.
     */
    private static boolean servesRead(Member m, long memberOffsetBytes, long lengthBytes) {
        return m.isInSync() || (m.state() == MemberState.RECOVERING
            && m.recoveryOffsetBytes() >= memberOffsetBytes + lengthBytes);
    }

    /**
     * Picks a copy that holds the data (in sync, or rebuilt past it), not tried yet: least busy,
     * then nearest head, then lowest address.
     * Where a resync has yet to make the copies agree, the first in-sync copy (raid10.c's
     * read_balance does not balance beyond next_resync): the resync copies from it, so a block
     * reads the same before and after.
     */
    private boolean chooseReadCopy(MappedIo io) {
        long bestScore = Long.MAX_VALUE;
        int best = -1;
        io.jmd.md.Redundancy red = array.redundancy();
        boolean first = io.copies > 1 && red != null
            && red.readFromFirst(io.request.parent.offsetBytes + io.pieceOffsetBytes, io.lengthBytes);
        for (int c = 0; c < io.copies; c++) {
            Member m = slots[io.devices[c]];
            if (m == null || !servesRead(m, io.memberOffsets[c], io.lengthBytes) || (io.tried & (1L << c)) != 0) {
                continue;
            }
            if (first) {
                best = c;
                break;
            }
            long at = m.dataOffsetBytes() + io.memberOffsets[c];
            long head = m.headPositionBytes();
            long score = head == at ? 0 : 1 + ((long) Math.min(m.pendingIo(), 1 << 20) << 40)
                + Math.min(Math.abs(head - at) >> 9, (1L << 39) - 1);
            if (m.writeMostly()) {
                score |= 1L << 62;
            }
            if (score < bestScore) {
                bestScore = score;
                best = c;
            }
        }
        if (best < 0) {
            return false;
        }
        io.current = best;
        io.tried |= 1L << best;
        return true;
    }

    /** Member I/O callback: a must-not-block section on an I/O thread. */
    private void memberDone(Bio bio) {
        MappedIo io = (MappedIo) bio.owner;
        Member m = slots[io.devices[io.current]];
        Bio.Op op = io.request.parent.op;
        if (op != Bio.Op.FLUSH) {
            m.ioEnded();
        }
        int st = bio.status();
        if (st == Errno.OK) {
            long failed = op == Bio.Op.READ ? io.tried & ~(1L << io.current) : 0;
            if (failed != 0 && readFix != null && !array.isReadOnly()) {
                readFix.queue(io, failed); // ends the piece once the failed copies are rewritten
            } else {
                endPiece(io, Errno.OK);
            }
            return;
        }
        if (op == Bio.Op.READ) {
            m.countReadError();
            retries.add(io);
            array.wakeMdThread();
            return;
        }
        // A failed flush fails the member as a failed write does (raid1 too): the array's flush
        // then succeeds once that is recorded (found by the simulator: a member dying under a
        // flush failed the raid10's flush, though the array kept every copy it needed).
        m.countWriteError();
        if (array.memberError(m)) {
            io.request.memberFailed = true;
            endPiece(io, Errno.OK);
        } else {
            endPiece(io, st);
        }
    }

    private void endPiece(MappedIo io, int status) {
        MappedRequest r = io.request;
        if (status != Errno.OK && r.error == 0) {
            r.error = status;
        }
        memberIos.free(io);
        if (r.remaining.decrementAndGet() == 0) {
            finish(r);
        }
    }

    private void finish(MappedRequest r) {
        if (r.error != 0) {
            endRequest(r, r.error);
        } else if (r.memberFailed) {
            held.hold(r);
        } else {
            endRequest(r, Errno.OK);
        }
    }

    private void endRequest(MappedRequest r, int status) {
        Bio parent = r.parent;
        r.parent = null;
        requests.free(r);
        parent.end(status);
    }

    @Override
    public void mdThreadWork() {
        if (readFix != null) {
            readFix.mdThreadWork();
        }
        MappedIo io;
        while ((io = retries.poll()) != null) {
            MappedIo retry = io;
            if (chooseReadCopy(retry)) {
                issue(retry);
            } else {
                int st = retry.copies > 1 && retry.lengthBytes > 512 ? readPiecewise(retry) : Errno.EIO;
                DependencyChecker.runAtomic(env.scheduler().current(), () -> endPiece(retry, st));
            }
        }
        endHeld();
    }

    /**
     * Every in-sync copy failed the whole piece: reads it a sector at a time, each sector from any
     * copy that can read it, synchronously on the md thread, as raid1 does (and raid10d's
     * fix_read_error, page by page). Different bad sectors on each copy then cost time, not data
     * (found by the simulator: a raid10 read spanning a latent error on each copy ended with EIO).
     * EIO only if some sector is unreadable on every copy.
     */
    private int readPiecewise(MappedIo io) {
        MemorySegment data = io.request.parent.data.asSlice(io.pieceOffsetBytes, io.lengthBytes);
        for (long at = 0; at < io.lengthBytes; at += 512) {
            boolean read = false;
            for (int c = 0; c < io.copies && !read; c++) {
                Member m = slots[io.devices[c]];
                read = m != null && m.isInSync() && SyncIo.read(env.scheduler(), m.device(),
                    m.dataOffsetBytes() + io.memberOffsets[c] + at, data.asSlice(at, 512)) == Errno.OK;
            }
            if (!read) {
                return Errno.EIO;
            }
        }
        return Errno.OK;
    }

    @Override
    public void superblockWritten() {
        endHeld();
    }

    /** Ends the held writes whose failure record is on disk (md thread). */
    private void endHeld() {
        held.releaseWritten();
    }

    @Override
    public boolean tryFail(Member m) {
        if (m.slot() < 0 || m.slot() >= slots.length || slots[m.slot()] != m) {
            return true; // holds data of no slot
        }
        long bit = 1L << m.slot();
        while (true) {
            long w = workingSlots.get();
            if ((w & bit) == 0) {
                return true;
            }
            if (!survives(w & ~bit)) {
                return false;
            }
            if (workingSlots.compareAndSet(w, w & ~bit)) {
                return true;
            }
        }
    }

    @Override
    public boolean canRun() {
        return survives(workingSlots.get());
    }

    @Override
    public boolean isOptimal() {
        return Long.bitCount(workingSlots.get()) == slots.length;
    }

    /** mdstat's "[n/m] [UU_U]". */
    protected final String slotStatus() {
        StringBuilder sb = new StringBuilder();
        sb.append('[').append(slots.length).append('/').append(Long.bitCount(workingSlots.get())).append("] [");
        for (Member m : slots) {
            sb.append(m != null && m.isInSync() ? 'U' : '_');
        }
        return sb.append(']').toString();
    }

    @Override
    public void stop() {
        assert retries.isEmpty() : "retries left at stop";
        assert held.isEmpty() : "held writes left at stop";
        if (readFix != null) {
            assert readFix.isEmpty() : "read fixes left at stop";
            readFix.close();
        }
        requests.close();
        memberIos.close();
    }
}

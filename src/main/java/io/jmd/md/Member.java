package io.jmd.md;

import io.jmd.block.BlockDevice;
import io.jmd.md.format.Superblock1;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One member device of a running array: md's struct md_rdev.
 *
 * <p>Who touches what: {@code state} is read by any I/O thread and changed only by
 * {@link MdArray#memberError} (CAS, from completion callbacks) and by the md thread;
 * {@code superblock} is written only by whoever writes superblocks (the md thread while
 * running, the assembling thread before, the stopping thread after); the counters are atomics
 * touched by I/O paths.
 */
public final class Member {
    private final BlockDevice device;
    private final String path;
    private final int devNumber;
    private final AtomicReference<MemberState> state;
    /**
     * The slot (dev_roles value) while IN_SYNC or RECOVERING; -1 for a spare. Changed only while
     * the array is quiesced (a spare taking a slot), so I/O paths see a stable value.
     */
    private volatile int slot;
    /** RECOVERING: member bytes (from the data offset) below this are rebuilt (the superblock's recovery_offset). */
    private volatile long recoveryOffsetBytes;
    /** Came back with its old slot (re-add): its recovery may follow the write-intent bitmap. */
    private volatile boolean reAdded;
    /** Read errors corrected by rewriting (the superblock's cnt_corrected_read). */
    private final AtomicInteger correctedReads = new AtomicInteger();
    private final long dataOffsetBytes;
    private volatile Superblock1 superblock;
    /** A superblock recording this member as faulty is on disk (set by the superblock writer). */
    private volatile boolean faultRecorded;
    /** Whether its own superblock on disk says in sync (see {@link #isInSyncRecorded}). */
    private volatile boolean inSyncRecorded;

    /** Member I/O in flight, for read balancing. */
    final AtomicInteger pending = new AtomicInteger();
    /** Where the last read on this member ended (bytes), for sequential affinity. */
    final AtomicLong headPositionBytes = new AtomicLong(-1);
    final AtomicLong readErrors = new AtomicLong();
    /** Read errors since this member's last good read (md's rdev->read_errors in raid5.c). */
    private final AtomicInteger readErrorsInARow = new AtomicInteger();
    /** raid1/raid10's read errors to fix, halved for every hour without one (check_decay_read_errors). */
    private final AtomicInteger recentReadErrors = new AtomicInteger();
    private final AtomicLong lastReadErrorNanos = new AtomicLong(NO_READ_ERROR_YET);
    private static final long NO_READ_ERROR_YET = Long.MIN_VALUE;
    private static final long HOUR_NANOS = 3_600_000_000_000L;
    final AtomicLong writeErrors = new AtomicLong();

    public Member(BlockDevice device, String path, Superblock1 superblock, int slot, MemberState state) {
        this.device = device;
        this.path = path;
        this.devNumber = superblock.devNumber();
        this.superblock = superblock;
        this.slot = slot;
        this.state = new AtomicReference<>(state);
        this.dataOffsetBytes = superblock.dataOffsetSectors() * 512;
        this.recoveryOffsetBytes = state == MemberState.RECOVERING ? superblock.recoveryOffsetSectors() * 512 : 0;
        this.correctedReads.set(superblock.cntCorrectedRead());
        this.inSyncRecorded = state == MemberState.IN_SYNC; // assembly read it so from its superblock
    }

    public BlockDevice device() {
        return device;
    }

    public String path() {
        return path;
    }

    public int devNumber() {
        return devNumber;
    }

    public int slot() {
        return slot;
    }

    public MemberState state() {
        return state.get();
    }

    public boolean isInSync() {
        return state.get() == MemberState.IN_SYNC;
    }

    /**
     * Moves to FAULTY; true if this call did it (only the first failure reports). Only
     * {@link MdArray#memberError}, after the personality agreed, calls this.
     */
    boolean markFaulty() {
        while (true) {
            MemberState s = state.get();
            if (s == MemberState.FAULTY) {
                return false;
            }
            if (state.compareAndSet(s, MemberState.FAULTY)) {
                return true;
            }
        }
    }

    /**
     * Whether the survivors' superblocks on disk already record this member as faulty. Until then a
     * write that skipped it must not be acknowledged: after a crash the member could come back
     * with equal events, be taken as in sync, and be the resync source (md_error's
     * MD_SB_CHANGE_PENDING holds writes likewise).
     */
    public boolean isFaultRecorded() {
        return faultRecorded;
    }

    void markFaultRecorded() {
        assert state.get() == MemberState.FAULTY : path + ": recorded as faulty while " + state.get();
        faultRecorded = true;
    }

    /**
     * Whether this member's own superblock on disk records it in sync. A rebuilt member is in sync
     * (serves reads, counts as a copy) from the end of its recovery, but until the superblock write
     * that follows reaches it, a crash brings it back as being rebuilt from its last checkpoint: it
     * is no copy to fall back on yet if another member fails in that window (md has the same
     * window between spare_active and md_update_sb). The simulator's fault model reads this.
     */
    public boolean isInSyncRecorded() {
        return inSyncRecorded;
    }

    void markInSyncRecorded() {
        inSyncRecorded = true; // (it may have failed since: then nothing reads this any more)
    }

    /**
     * Moves {@code from} -> {@code to} (SPARE -> RECOVERING -> IN_SYNC as recovery goes); true if
     * this call did it. Only the array's member management and sync reaping call this.
     */
    public boolean transition(MemberState from, MemberState to) {
        assert to != MemberState.FAULTY : "use markFaulty";
        return state.compareAndSet(from, to);
    }

    /** A spare takes {@code newSlot} (or -1: gives it up), while the array is quiesced. */
    public void setSlot(int newSlot) {
        this.slot = newSlot;
    }

    public long recoveryOffsetBytes() {
        return recoveryOffsetBytes;
    }

    public void setRecoveryOffsetBytes(long bytes) {
        this.recoveryOffsetBytes = bytes;
    }

    public boolean isReAdded() {
        return reAdded;
    }

    public void setReAdded(boolean reAdded) {
        this.reAdded = reAdded;
    }

    public int correctedReads() {
        return correctedReads.get();
    }

    /** Counts a read error fixed by rewriting the block; returns the new count. */
    public int countCorrectedRead() {
        return correctedReads.incrementAndGet();
    }

    public long dataOffsetBytes() {
        return dataOffsetBytes;
    }

    public Superblock1 superblock() {
        return superblock;
    }

    void setSuperblock(Superblock1 sb) {
        this.superblock = sb;
    }

    public int pendingIo() {
        return pending.get();
    }

    /** Counts a member I/O in; {@code endBytes}: where it ends, for sequential read affinity. */
    public void ioStarted(long endBytes) {
        pending.incrementAndGet();
        headPositionBytes.set(endBytes);
    }

    public void ioEnded() {
        pending.decrementAndGet();
    }

    public long headPositionBytes() {
        return headPositionBytes.get();
    }

    /** Counts a failed read; returns the read errors since the last good read, this one included. */
    public int countReadError() {
        readErrors.incrementAndGet();
        return readErrorsInARow.incrementAndGet();
    }

    /**
     * Counts a read error raid1/raid10 is about to fix at {@code nowNanos} and returns how many
     * there were lately: md's exceed_read_errors, whose count halves for every whole hour since
     * the previous one (check_decay_read_errors), so a disk is failed for errors that come fast,
     * not for how many it had corrected over its life. Racing callers only blur the decay.
     */
    public int countRecentReadError(long nowNanos) {
        long last = lastReadErrorNanos.getAndSet(nowNanos);
        if (last != NO_READ_ERROR_YET) {
            long hours = Math.max(0, (nowNanos - last) / HOUR_NANOS);
            if (hours > 0) {
                recentReadErrors.updateAndGet(c -> hours >= Integer.SIZE ? 0 : c >> hours);
            }
        }
        return recentReadErrors.incrementAndGet();
    }

    /** md's max_corr_read_errors default: more read errors to fix lately than this fail a member. */
    public static final int RECENT_READ_ERRORS_MAX = 20;

    /**
     * raid1/raid10's fix_read_error rewrote a block this member could not read: counts it in the
     * superblock's cnt_corrected_read and among the recent read errors. Returns whether the member
     * is to be failed (more than {@link #RECENT_READ_ERRORS_MAX} lately: md's exceed_read_errors).
     */
    public boolean countFixedReadError(long nowNanos) {
        countCorrectedRead();
        return countRecentReadError(nowNanos) > RECENT_READ_ERRORS_MAX;
    }

    /** A read of this member worked: its run of read errors is over (raid5_end_read_request). */
    public void readSucceeded() {
        if (readErrorsInARow.get() != 0) {
            readErrorsInARow.set(0);
        }
    }

    public void countWriteError() {
        writeErrors.incrementAndGet();
    }

    public long readErrors() {
        return readErrors.get();
    }

    public long writeErrors() {
        return writeErrors.get();
    }

    public boolean writeMostly() {
        return (superblock.devFlags() & 1) != 0;
    }

    @Override
    public String toString() {
        return path + "[" + slot + "," + state.get() + "]";
    }
}

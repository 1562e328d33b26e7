package io.jmd.md;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The array's clean/dirty state and its writers in one atomic word, so that "no writer and
 * clean" can never be observed while a writer slips in (md's in_sync + writes_pending, which
 * the kernel guards with a percpu ref switch and a spinlock).
 *
 * <pre>
 *   bit 62      CLEAN: the superblock on disk says clean (resync_offset = MaxSector), or is about to
 *   bit 61      DIRTY_PENDING: CLEAN was cleared, the "dirty" superblock is not on disk yet
 *   bits 0..60  writers in flight
 *
 *   writer start:  CLEAN set   -> clear it, set DIRTY_PENDING, count+1, ask for a "dirty" superblock
 *                                 write, wait for it, clear DIRTY_PENDING ({@link #dirtyRecorded})
 *                  CLEAN clear -> count+1, wait while DIRTY_PENDING (md_write_start waits on
 *                                 MD_SB_CHANGE_PENDING likewise: no writer may touch a member
 *                                 before the superblocks say dirty, or a crash leaves mirrors
 *                                 that differ under a clean superblock, never resynced)
 *   writer end:    count-1
 *   safe mode (md thread, idle for safe_mode_delay): count == 0 and not CLEAN -> set CLEAN, write "clean"
 * </pre>
 */
final class WriteState {
    static final long CLEAN = 1L << 62;
    static final long DIRTY_PENDING = 1L << 61;
    private final AtomicLong word;

    WriteState(boolean clean) {
        word = new AtomicLong(clean ? CLEAN : 0);
    }

    /** Counts a writer in; returns true if it had to clear CLEAN (the caller must record dirty). */
    boolean enter() {
        while (true) {
            long w = word.get();
            long next = (w & CLEAN) != 0 ? ((w & ~CLEAN) | DIRTY_PENDING) + 1 : w + 1;
            if (word.compareAndSet(w, next)) {
                return (w & CLEAN) != 0;
            }
        }
    }

    void exit() {
        long before = word.getAndDecrement();
        assert (before & ~(CLEAN | DIRTY_PENDING)) > 0 : "writer count underflow";
    }

    /** Sets CLEAN if no writer is in; true if it did. */
    boolean tryMarkClean() {
        long w = word.get();
        return w == 0 && word.compareAndSet(0, CLEAN);
    }

    boolean isClean() {
        return (word.get() & CLEAN) != 0;
    }

    long writers() {
        return word.get() & ~(CLEAN | DIRTY_PENDING);
    }

    /** True from the moment CLEAN is cleared until the "dirty" superblock is on disk. */
    boolean dirtyPending() {
        return (word.get() & DIRTY_PENDING) != 0;
    }

    /** The writer that cleared CLEAN saw its "dirty" superblock written: other writers may go. */
    void dirtyRecorded() {
        long before = word.getAndUpdate(w -> w & ~DIRTY_PENDING);
        assert (before & DIRTY_PENDING) != 0 : "dirty recorded twice";
    }
}

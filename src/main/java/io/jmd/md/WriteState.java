package io.jmd.md;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The array's clean/dirty state and its writers in one atomic word, so that "no writer and
 * clean" can never be observed while a writer slips in (md's in_sync + writes_pending, which
 * the kernel guards with a percpu ref switch and a spinlock).
 *
 * <pre>
 *   bit 62      CLEAN: the superblock on disk says clean (resync_offset = MaxSector), or is about to
 *   bits 0..61  writers in flight
 *
 *   writer start:  CLEAN set   -> clear it, count+1, ask for a "dirty" superblock write, wait for it
 *                  CLEAN clear -> count+1
 *   writer end:    count-1
 *   safe mode (md thread, idle for safe_mode_delay): count == 0 and not CLEAN -> set CLEAN, write "clean"
 * </pre>
 */
final class WriteState {
    static final long CLEAN = 1L << 62;
    private final AtomicLong word;

    WriteState(boolean clean) {
        word = new AtomicLong(clean ? CLEAN : 0);
    }

    /** Counts a writer in; returns true if it had to clear CLEAN (the caller must record dirty). */
    boolean enter() {
        while (true) {
            long w = word.get();
            long next = (w & ~CLEAN) + 1;
            if (word.compareAndSet(w, next)) {
                return (w & CLEAN) != 0;
            }
        }
    }

    void exit() {
        long after = word.decrementAndGet();
        assert (after & ~CLEAN) >= 0 && (after & ~CLEAN) < CLEAN : "writer count underflow";
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
        return word.get() & ~CLEAN;
    }
}

package io.jmd.md.bitmap;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The in-memory half of the write-intent bitmap: one 16-bit counter per chunk, as md-bitmap.h's
 * {@code bitmap_counter_t}. No I/O here; {@link WriteIntentBitmap} writes the on-disk bits, which
 * are exactly "counter != 0".
 *
 * <pre>
 *   bit 15 NEEDED   the chunk must be resynced (set on load from a set disk bit, on a write that
 *                   did not reach every member, on an aborted sync of the chunk)
 *   bit 14 RESYNC   a sync of the chunk is under way (NEEDED moved here by startSync)
 *   bits 0..13      2 + writes in flight; 1 and 2 are the daemon's "clean soon" steps; 0 = clear
 *
 *   life cycle of a chunk without flags:
 *     0 --startWrite--> 3 (the disk bit must be set and flushed before the data write)
 *     n --startWrite--> n+1            n --endWrite--> n-1   (never below 2 while flagged)
 *     2 --daemon--> 1 --daemon--> 0 (disk bit cleared)      1 --startWrite--> 3 (bit still set)
 *   a flagged chunk (NEEDED or RESYNC) is never cleared by the daemon: only a sync clears NEEDED
 * </pre>
 *
 * <p>Concurrency: every transition is one compare-and-set on the chunk's counter, so submitters,
 * completion callbacks (endWrite, never blocking), the sync thread and the md thread's daemon may
 * touch a chunk at once. Bound: at most {@code MdArray.MAX_INFLIGHT_DEFAULT} (256) requests are in
 * flight per array, each counting once per chunk, far below {@link #COUNT_MAX}; md's overflow wait
 * can therefore never be needed, and is an assertion here.
 */
public final class BitmapCounters {
    public static final int NEEDED = 1 << 15;
    public static final int RESYNC = 1 << 14;
    public static final int COUNT_MASK = (1 << 14) - 1;
    /** md's COUNTER_MAX. */
    public static final int COUNT_MAX = COUNT_MASK;
    /** Counters per 4 KiB page of md's in-memory map (PAGE_COUNTER_RATIO), for /proc/mdstat's "pages". */
    public static final int COUNTERS_PER_PAGE = 2048;

    private final AtomicIntegerArray counters;

    public BitmapCounters(int chunks) {
        assert chunks > 0 : "no chunks";
        this.counters = new AtomicIntegerArray(chunks);
    }

    public int chunks() {
        return counters.length();
    }

    public int get(int chunk) {
        return counters.get(chunk);
    }

    /** Whether the on-disk bit of {@code chunk} must be set. */
    public boolean diskBit(int chunk) {
        return counters.get(chunk) != 0;
    }

    /**
     * Counts a write in (md_bitmap_startwrite). Returns true if the counter was 0: the disk bit
     * must now be set and flushed before the data write.
     */
    public boolean startWrite(int chunk) {
        while (true) {
            int v = counters.get(chunk);
            assert (v & COUNT_MASK) < COUNT_MAX : "bitmap counter overflow at chunk " + chunk;
            int base = v == 0 || v == 1 ? 2 : v;
            if (counters.compareAndSet(chunk, v, base + 1)) {
                return v == 0;
            }
        }
    }

    /**
     * Counts a write out (md_bitmap_endwrite). {@code success}: it reached every member the array
     * should have; if not, the chunk needs a resync (NEEDED). Never blocks.
     */
    public void endWrite(int chunk, boolean success) {
        while (true) {
            int v = counters.get(chunk);
            assert (v & COUNT_MASK) > 2 : "endWrite without startWrite at chunk " + chunk + ": " + Integer.toHexString(v);
            int next = (success ? v : v | NEEDED) - 1;
            if (counters.compareAndSet(chunk, v, next)) {
                return;
            }
        }
    }

    /**
     * Whether a sync must visit {@code chunk} (md's __bitmap_start_sync). A NEEDED chunk becomes
     * RESYNC unless {@code degraded} (a sync that cannot reach every slot leaves the need in place).
     */
    public boolean startSync(int chunk, boolean degraded) {
        while (true) {
            int v = counters.get(chunk);
            if ((v & RESYNC) != 0) {
                return true;
            }
            if ((v & NEEDED) == 0) {
                return false;
            }
            if (degraded) {
                return true;
            }
            if (counters.compareAndSet(chunk, v, (v & ~NEEDED) | RESYNC)) {
                return true;
            }
        }
    }

    /** A sync of {@code chunk} ended; {@code aborted}: it did not finish, so the need stays. */
    public void endSync(int chunk, boolean aborted) {
        while (true) {
            int v = counters.get(chunk);
            if ((v & RESYNC) == 0) {
                return;
            }
            int next = v & ~RESYNC;
            if (aborted) {
                next |= NEEDED;
            }
            if (counters.compareAndSet(chunk, v, next)) {
                return;
            }
        }
    }

    /** Whether {@code chunk} still needs a sync (NEEDED or RESYNC). */
    public boolean needsSync(int chunk) {
        return (counters.get(chunk) & (NEEDED | RESYNC)) != 0;
    }

    /** Loads a set disk bit (md_bitmap_set_memory_bits): counter 2, NEEDED if {@code needed}. */
    public void setLoaded(int chunk, boolean needed) {
        while (true) {
            int v = counters.get(chunk);
            int next = (v == 0 ? 2 : v) | (needed ? NEEDED : 0);
            if (counters.compareAndSet(chunk, v, next)) {
                return;
            }
        }
    }

    /**
     * One daemon step on {@code chunk} (md_bitmap_daemon_work): 2 becomes 1, and 1 becomes 0
     * unless {@code holdClears} (new events_cleared not on disk yet). Returns true if the counter
     * reached 0 (its disk bit must be cleared).
     */
    public boolean daemonStep(int chunk, boolean holdClears) {
        while (true) {
            int v = counters.get(chunk);
            int next;
            if (v == 1 && !holdClears) {
                next = 0;
            } else if (v == 2) {
                next = 1;
            } else {
                return false;
            }
            if (counters.compareAndSet(chunk, v, next)) {
                return next == 0;
            }
        }
    }

    /** Chunks whose disk bit is set. */
    public int dirtyChunks() {
        int n = 0;
        for (int i = 0; i < counters.length(); i++) {
            if (counters.get(i) != 0) {
                n++;
            }
        }
        return n;
    }

    /** Chunks that still need a sync. */
    public int neededChunks() {
        int n = 0;
        for (int i = 0; i < counters.length(); i++) {
            if (needsSync(i)) {
                n++;
            }
        }
        return n;
    }

    /** md's counter pages (2048 counters each) in all, and those holding any non-zero counter. */
    public int pages() {
        return Math.ceilDiv(counters.length(), COUNTERS_PER_PAGE);
    }

    public int pagesInUse() {
        int used = 0;
        for (int p = 0; p < pages(); p++) {
            int end = Math.min(counters.length(), (p + 1) * COUNTERS_PER_PAGE);
            for (int i = p * COUNTERS_PER_PAGE; i < end; i++) {
                if (counters.get(i) != 0) {
                    used++;
                    break;
                }
            }
        }
        return used;
    }
}

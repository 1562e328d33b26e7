package io.jmd.md.resync;

import io.jmd.sync.Scheduler;
import io.jmd.sync.WaitQueue;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Keeps sync I/O and normal writes apart, per region, as raid1.c's raise_barrier/wait_barrier:
 * a sync window never runs while a normal write to its region is in flight, and a normal write
 * never starts while a sync window of its region is in flight. So a sync never copies a block
 * between two halves of a mirror write, and never overwrites a newer block with an older copy.
 *
 * <pre>
 *   regions: 64 MiB of resync address space (md's BARRIER_UNIT_SECTOR_SIZE), hashed into 1024
 *            buckets (BARRIER_BUCKETS_NR); a bucket's counters:
 *   pending   normal writes in flight in the bucket
 *   barrier   sync windows (at most depth) and read fixes in flight in the bucket
 *   waiting   normal writes waiting for the bucket's barrier to drop
 *   frozen    read fixes holding the bucket (counted in barrier too)
 *
 *   normal write:  pending+1; if barrier > 0: pending-1, waiting+1, wait for barrier == 0,
 *                  waiting-1, try again        ...I/O...        pending-1
 *   sync window:   only if waiting == 0 (normal I/O first) and frozen == 0: barrier+1 (undone
 *                  if frozen > 0 then); start when pending == 0     ...I/O...  barrier-1
 *   read fix:      only if waiting == 0: frozen+1, barrier+1; start when pending == 0 and
 *                  barrier == frozen (no sync window in flight)   ...I/O...  frozen-1, barrier-1
 * </pre>
 * The pending and barrier increments are each checked against the other counter afterwards
 * (sequentially consistent atomics): one side always sees the other, so both never go at once;
 * a sync window's barrier increment and a fix's frozen increment likewise. So a read fix (md's
 * freeze_array around fix_read_error; a raid10 read even holds wait_barrier from its start) never
 * runs beside a sync window of its region: a window that read a copy before the fix rewrote it
 * would write its older read over the fix's writes, and the copies would differ.
 *
 * <p>No deadlock: a write takes its buckets in increasing order and may hold one while waiting
 * for the next; the sync thread never blocks on a bucket (it polls {@link #drained}) and its
 * windows end on member I/O alone, so every raised barrier drops without any write's help. A
 * read fix never blocks either (the md thread polls {@link #quietForFix}); a frozen bucket starts
 * no new window, so the windows it waits for are only those already in flight.
 * Only normal writes (and discards, write-zeroes) enter; reads need no barrier (raid1.c
 * wait_read_barrier waits only for a frozen array), since a read returns whole blocks either
 * member holds.
 */
public final class SyncBarrier {
    public static final int BUCKETS = 1024;
    public static final int UNIT_SHIFT = 26;
    public static final long UNIT_BYTES = 1L << UNIT_SHIFT;

    private final AtomicIntegerArray pending = new AtomicIntegerArray(BUCKETS);
    private final AtomicIntegerArray barrier = new AtomicIntegerArray(BUCKETS);
    private final AtomicIntegerArray waiting = new AtomicIntegerArray(BUCKETS);
    private final AtomicIntegerArray frozen = new AtomicIntegerArray(BUCKETS);
    private final WaitQueue normalWait;
    private final WaitQueue syncWait;

    public SyncBarrier(Scheduler scheduler, String name) {
        this.normalWait = new WaitQueue(scheduler, name + " sync barrier");
        this.syncWait = new WaitQueue(scheduler, name + " normal I/O drained");
    }

    public static int bucketOf(long bytes) {
        return (int) ((bytes >>> UNIT_SHIFT) % BUCKETS);
    }

    /** Units of [fromBytes, toBytes), each bucket once, in increasing unit order. */
    private static void forEachBucket(long fromBytes, long toBytes, java.util.function.IntConsumer action) {
        long first = fromBytes >>> UNIT_SHIFT;
        long last = (toBytes - 1) >>> UNIT_SHIFT;
        if (last - first + 1 >= BUCKETS) {
            for (int b = 0; b < BUCKETS; b++) {
                action.accept(b);
            }
            return;
        }
        for (long u = first; u <= last; u++) {
            action.accept((int) (u % BUCKETS));
        }
    }

    /** A normal write to resync bytes [fromBytes, toBytes) starts; may wait for sync windows. */
    public void enterNormal(long fromBytes, long toBytes) {
        assert toBytes > fromBytes : "empty range";
        forEachBucket(fromBytes, toBytes, this::enterBucket);
    }

    private void enterBucket(int b) {
        while (true) {
            pending.incrementAndGet(b);
            if (barrier.get(b) == 0) {
                return;
            }
            pending.decrementAndGet(b);
            syncWait.wakeAll();
            waiting.incrementAndGet(b);
            try {
                normalWait.waitUntil(() -> barrier.get(b) == 0);
            } finally {
                waiting.decrementAndGet(b);
            }
        }
    }

    /**
     * A write that must not wait (a read-error rewrite from the md thread) enters if no sync window
     * is up in [fromBytes, toBytes): false, entering nothing, if one is. Never blocks.
     */
    public boolean tryEnterNormal(long fromBytes, long toBytes) {
        assert toBytes > fromBytes : "empty range";
        boolean[] ok = {true};
        java.util.List<Integer> entered = new java.util.ArrayList<>();
        forEachBucket(fromBytes, toBytes, b -> {
            if (!ok[0]) {
                return;
            }
            pending.incrementAndGet(b);
            entered.add(b);
            if (barrier.get(b) != 0) {
                ok[0] = false;
            }
        });
        if (!ok[0]) {
            for (int b : entered) {
                if (pending.decrementAndGet(b) == 0 && barrier.get(b) > 0) {
                    syncWait.wakeAll();
                }
            }
        }
        return ok[0];
    }

    /** The normal write ended (completion callbacks: never blocks). */
    public void exitNormal(long fromBytes, long toBytes) {
        forEachBucket(fromBytes, toBytes, b -> {
            int left = pending.decrementAndGet(b);
            assert left >= 0 : "pending underflow in bucket " + b;
            if (left == 0 && barrier.get(b) > 0) {
                syncWait.wakeAll();
            }
        });
    }

    /**
     * Raises the barrier of {@code bucket} for one more sync window, unless normal writes wait
     * for it (they go first) or {@code maxWindows} are already in flight there. Never blocks.
     */
    public boolean tryRaise(int bucket, int maxWindows) {
        if (waiting.get(bucket) > 0 || frozen.get(bucket) > 0 || barrier.get(bucket) >= maxWindows) {
            return false;
        }
        barrier.incrementAndGet(bucket);
        if (frozen.get(bucket) > 0) {
            lower(bucket); // a read fix froze the bucket meanwhile: it goes first
            return false;
        }
        return true;
    }

    /**
     * A read fix (the md thread) freezes {@code bucket}: no new normal write or sync window starts
     * there until {@link #unfreeze}; refused, freezing nothing, while normal writes wait for the
     * bucket (they go first). Never blocks.
     */
    public boolean tryFreeze(int bucket) {
        if (waiting.get(bucket) > 0) {
            return false;
        }
        frozen.incrementAndGet(bucket);
        barrier.incrementAndGet(bucket);
        return true;
    }

    /**
     * Freezes every one of {@code buckets} for a read fix ({@code frozen} records which are, from
     * call to call) and says whether the fix may start: all frozen, and no normal write or sync
     * window in flight in any. Called again until true, then {@link #thaw}. Never blocks.
     */
    public boolean tryFreeze(int[] buckets, boolean[] frozen) {
        for (int i = 0; i < buckets.length; i++) {
            if (!frozen[i]) {
                if (!tryFreeze(buckets[i])) {
                    return false;
                }
                frozen[i] = true;
            }
        }
        for (int b : buckets) {
            if (!quietForFix(b)) {
                return false;
            }
        }
        return true;
    }

    /** Unfreezes what {@link #tryFreeze(int[], boolean[])} froze, once it said true. */
    public void thaw(int[] buckets) {
        for (int b : buckets) {
            unfreeze(b);
        }
    }

    /** Whether the fix of a frozen {@code bucket} may start: no normal write and no sync window in flight. */
    public boolean quietForFix(int bucket) {
        return pending.get(bucket) == 0 && barrier.get(bucket) == frozen.get(bucket);
    }

    /** The read fix of a frozen {@code bucket} ended. Never blocks. */
    public void unfreeze(int bucket) {
        int left = frozen.decrementAndGet(bucket);
        assert left >= 0 : "frozen underflow in bucket " + bucket;
        lower(bucket);
    }

    /** Whether the sync window of a raised {@code bucket} may start: no normal write in flight. */
    public boolean drained(int bucket) {
        return pending.get(bucket) == 0;
    }

    /** Whether normal writes wait for {@code bucket}. */
    public boolean hasWaiters(int bucket) {
        return waiting.get(bucket) > 0;
    }

    /** A sync window ended. Never blocks. */
    public void lower(int bucket) {
        int left = barrier.decrementAndGet(bucket);
        assert left >= 0 : "barrier underflow in bucket " + bucket;
        if (left == 0) {
            normalWait.wakeAll();
        }
    }

    /** What the sync thread waits on for drains ({@link #drained}); its own wake-ups use it too. */
    public WaitQueue syncWaitQueue() {
        return syncWait;
    }
}

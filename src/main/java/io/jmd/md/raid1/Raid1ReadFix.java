package io.jmd.md.raid1;

import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.md.MdArray;
import io.jmd.md.Member;
import io.jmd.md.ReadErrorRewrite;
import io.jmd.md.resync.SyncBarrier;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.ObjIntConsumer;

/**
 * raid1d's fix_read_error: a read that failed on some member and then succeeded on another has
 * its good data written back to each member that failed, and read again from it. The rewrite
 * makes the disk remap a bad sector; a member whose rewrite or re-read fails, or that needed more
 * than {@link Member#RECENT_READ_ERRORS_MAX} read errors to fix lately (the count halves every hour: md's
 * exceed_read_errors and max_corr_read_errors), is failed.
 *
 * <p>md freezes the array around the fix so that no write to the block lands between the read
 * and the rewrite (the rewrite would put the older data back on one mirror). Here the md thread
 * freezes the sync barrier of the block's regions instead, and does the fix only once no normal
 * write and no sync window is in flight there (a window that read a member before the fix would
 * write that older read over the fix's: the mirrors would differ); until then the request waits
 * in {@link #deferred}, polled on each pass
 * (a timer wakes the md thread soon after). The fix itself is synchronous member I/O on the md
 * thread, as raid1d's sync_page_io (and the piecewise read above it); the rewrite and re-read of
 * each failed member is {@link ReadErrorRewrite}'s, at the block's offset on every member.
 *
 * <p>Threads: {@link #queue} from completion callbacks (never blocks); everything else on the
 * md thread, which owns {@link #deferred}.
 */
final class Raid1ReadFix {
    /** How soon the md thread looks again at a fix waiting for writes to drain. */
    static final long RETRY_NANOS = 1_000_000L;
    /**
     * A read to fix: the request (its data holds the good copy), where it came from, who failed;
     * or ({@code good} null) a read of a block not resynced yet, to read and resync here.
     */
    record Fix(R1Request request, Member good, long failedSlots, int[] buckets, boolean[] raised) {
    }

    private final MdArray array;
    private final Raid1 raid1;
    private final ObjIntConsumer<R1Request> end;
    private final ConcurrentLinkedQueue<Fix> queued = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<Fix> deferred = new ArrayDeque<>();
    private final ReadErrorRewrite rewrite;

    Raid1ReadFix(MdArray array, Raid1 raid1, ObjIntConsumer<R1Request> end) {
        this.array = array;
        this.raid1 = raid1;
        this.end = end;
        this.rewrite = new ReadErrorRewrite(array);
    }

    void close() {
        rewrite.close();
    }

    /**
     * A read of a block the resync has not reached yet (raid1.c reads such blocks from the first
     * member): here it is read from the first member and written to the others under the sync
     * barrier before it ends, so that a value a client saw always has every copy. Never blocks.
     */
    void queueSyncRead(R1Request r) {
        queue(r, null, 0);
    }

    /** A retried read succeeded on {@code good} after failing on {@code failedSlots}. Never blocks. */
    void queue(R1Request r, Member good, long failedSlots) {
        Bio p = r.parent;
        long first = p.offsetBytes >>> SyncBarrier.UNIT_SHIFT;
        long last = (p.offsetBytes + p.lengthBytes - 1) >>> SyncBarrier.UNIT_SHIFT;
        List<Integer> buckets = new ArrayList<>();
        for (long u = first; u <= last && buckets.size() < SyncBarrier.BUCKETS; u++) {
            int b = (int) (u % SyncBarrier.BUCKETS);
            if (!buckets.contains(b)) {
                buckets.add(b);
            }
        }
        int[] bs = buckets.stream().mapToInt(Integer::intValue).toArray();
        queued.add(new Fix(r, good, failedSlots, bs, new boolean[bs.length]));
        array.wakeMdThread();
    }

    boolean isEmpty() {
        return queued.isEmpty() && deferred.isEmpty();
    }

    /** md thread: fixes what it can now, defers the rest. */
    void mdThreadWork() {
        Fix f;
        while ((f = queued.poll()) != null) {
            deferred.add(f);
        }
        int n = deferred.size();
        for (int i = 0; i < n; i++) {
            Fix x = deferred.poll();
            if (tryFix(x)) {
                continue;
            }
            deferred.add(x);
        }
        if (!deferred.isEmpty()) {
            array.env().timer().schedule(RETRY_NANOS, array::wakeMdThread);
        }
    }

    private boolean tryFix(Fix f) {
        var redundancy = array.redundancy();
        SyncBarrier barrier = redundancy == null ? null : redundancy.barrier();
        if (barrier != null && !barrier.tryFreeze(f.buckets(), f.raised())) {
            return false; // normal writes wait there (they go first), or writes or sync windows are in flight
        }
        int status = Errno.OK;
        try {
            if (f.good() == null) {
                status = readAndResync(f.request().parent);
            } else {
                fix(f);
            }
        } finally {
            if (barrier != null) {
                barrier.thaw(f.buckets());
            }
        }
        int st = status;
        io.jmd.sync.DependencyChecker.runAtomic(array.env().scheduler().current(), () -> end.accept(f.request(), st));
        return true;
    }

    private void fix(Fix f) {
        Bio p = f.request().parent;
        Member good = f.good();
        for (Member bad : raid1.slots()) {
            if (bad == null || bad == good || !bad.isInSync() || (f.failedSlots() & (1L << bad.slot())) == 0) {
                continue;
            }
            rewrite.fix(good, good.dataOffsetBytes() + p.offsetBytes, bad, bad.dataOffsetBytes() + p.offsetBytes, p.lengthBytes);
        }
    }

    /**
     * Reads {@code p} from the first in-sync member (a sector it cannot read from the next that
     * can), then writes it to every other in-sync member. EIO only if some sector reads nowhere.
     */
    private int readAndResync(Bio p) {
        var scheduler = array.env().scheduler();
        List<Member> inSync = new ArrayList<>();
        for (Member m : raid1.slots()) {
            if (m != null && m.isInSync()) {
                inSync.add(m);
            }
        }
        if (inSync.isEmpty()) {
            return Errno.EIO;
        }
        Member first = inSync.get(0);
        boolean whole = SyncIo.read(scheduler, first.device(), first.dataOffsetBytes() + p.offsetBytes, p.data) == Errno.OK;
        if (!whole) {
            first.countReadError();
            for (long at = 0; at < p.lengthBytes; at += 512) {
                boolean read = false;
                for (Member m : inSync) {
                    if (SyncIo.read(scheduler, m.device(), m.dataOffsetBytes() + p.offsetBytes + at, p.data.asSlice(at, 512))
                        == Errno.OK) {
                        read = true;
                        break;
                    }
                }
                if (!read) {
                    return Errno.EIO;
                }
            }
        }
        for (Member m : inSync) {
            if (m == first && whole) {
                continue; // it holds what was read
            }
            if (SyncIo.write(scheduler, m.device(), m.dataOffsetBytes() + p.offsetBytes, p.data, 0) != Errno.OK) {
                m.countWriteError();
                array.memberError(m);
            }
        }
        return Errno.OK;
    }
}

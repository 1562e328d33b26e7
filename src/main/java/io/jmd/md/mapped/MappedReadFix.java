package io.jmd.md.mapped;

import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.md.MdArray;
import io.jmd.md.Member;
import io.jmd.md.ReadErrorRewrite;
import io.jmd.md.resync.SyncBarrier;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.ObjIntConsumer;

/**
 * raid10d's fix_read_error: a piece whose read failed on some copies and then succeeded on
 * another has the good data written back to each copy that failed, and read again from there.
 * The rewrite makes the disk remap a bad sector; a member whose rewrite or re-read fails, or that
 * needed more than {@link Member#RECENT_READ_ERRORS_MAX} corrections lately (the count halves every hour: md's
 * exceed_read_errors and max_corr_read_errors), is failed.
 *
 * <p>md freezes the array around the fix so that no write lands between the read and the
 * rewrite (the rewrite would put older data back on one copy), and a raid10 read holds the
 * barrier from its start, so no sync window runs beside its fix either. Here the md thread
 * freezes the sync barrier of the piece's regions (array bytes: raid10's resync space) and fixes
 * only once no normal write and no sync window is in flight there (a window that read a copy
 * before the fix would write that older read over the fix's: the copies would differ); until then
 * the piece waits in {@link #deferred}, polled on each pass (a timer wakes the md thread soon
 * after). Under the barrier, {@link ReadErrorRewrite} reads the good copy again, writes it to each
 * failed copy (at that copy's own member offset) and reads it back; synchronous member I/O on the
 * md thread, as md's sync_page_io.
 * The piece ends (the client's read) once its fix is done.
 *
 * <p>Threads: {@link #queue} from completion callbacks (never blocks); everything else on the
 * md thread, which owns {@link #deferred}.
 */
final class MappedReadFix {
    /** How soon the md thread looks again at a fix waiting for writes to drain. */
    static final long RETRY_NANOS = 1_000_000L;

    /**
     * A piece to fix: its I/O (current = the copy that read it), the copies that failed, its
     * barrier buckets; or ({@code syncRead}) a piece to read where the copies may differ.
     */
    record Fix(MappedIo io, long failedCopies, int[] buckets, boolean[] raised, boolean syncRead) {
    }

    private final MdArray array;
    private final Member[] slots;
    private final ObjIntConsumer<MappedIo> end;
    private final ConcurrentLinkedQueue<Fix> queued = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<Fix> deferred = new ArrayDeque<>();
    private final ReadErrorRewrite rewrite;

    MappedReadFix(MdArray array, Member[] slots, ObjIntConsumer<MappedIo> end) {
        this.array = array;
        this.slots = slots;
        this.end = end;
        this.rewrite = new ReadErrorRewrite(array);
    }

    void close() {
        rewrite.close();
    }

    boolean isEmpty() {
        return queued.isEmpty() && deferred.isEmpty();
    }

    /** The read of {@code io} succeeded on its current copy after failing on {@code failedCopies}. Never blocks. */
    void queue(MappedIo io, long failedCopies) {
        queue(io, failedCopies, false);
    }

    /**
     * A read of a piece a resync has yet to make the copies agree on (after a crash they may hold
     * different versions): read from the first in-sync copy and written to the others before it
     * ends, under the barrier, so that a value a client saw never rests on one copy (as raid1's
     * sync read). Otherwise a fault on the copy reads come from (a latent error, a failure)
     * makes the array show the other copy's version, after a read showed the first one (found by
     * the simulator: {@code jmd sim --seed 10 --ops 1500 --level raid10}). Never blocks.
     */
    void queueSyncRead(MappedIo io) {
        queue(io, 0, true);
    }

    private void queue(MappedIo io, long failedCopies, boolean syncRead) {
        long start = io.request.parent.offsetBytes + io.pieceOffsetBytes;
        long first = start >>> SyncBarrier.UNIT_SHIFT;
        long last = (start + io.lengthBytes - 1) >>> SyncBarrier.UNIT_SHIFT;
        int n = (int) Math.min(last - first + 1, SyncBarrier.BUCKETS);
        int[] buckets = new int[n];
        for (int i = 0; i < n; i++) {
            buckets[i] = (int) ((first + i) % SyncBarrier.BUCKETS);
        }
        queued.add(new Fix(io, failedCopies, buckets, new boolean[n], syncRead));
        array.wakeMdThread();
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
            if (!tryFix(x)) {
                deferred.add(x);
            }
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
            if (f.syncRead()) {
                status = readAndResync(f.io());
            } else {
                fix(f);
            }
        } finally {
            if (barrier != null) {
                barrier.thaw(f.buckets());
            }
        }
        int st = status;
        io.jmd.sync.DependencyChecker.runAtomic(array.env().scheduler().current(), () -> end.accept(f.io(), st));
        return true;
    }

    /**
     * Reads the piece from its first in-sync copy (a sector it cannot read from the next copy that
     * can), then writes it to every other in-sync copy. EIO only if some sector reads nowhere.
     */
    private int readAndResync(MappedIo io) {
        var scheduler = array.env().scheduler();
        MemorySegment data = io.request.parent.data.asSlice(io.pieceOffsetBytes, io.lengthBytes);
        java.util.List<Integer> inSync = new java.util.ArrayList<>();
        for (int c = 0; c < io.copies; c++) {
            Member m = slots[io.devices[c]];
            if (m != null && m.isInSync()) {
                inSync.add(c);
            }
        }
        if (inSync.isEmpty()) {
            return Errno.EIO;
        }
        int first = inSync.get(0);
        Member fm = slots[io.devices[first]];
        boolean whole = SyncIo.read(scheduler, fm.device(), fm.dataOffsetBytes() + io.memberOffsets[first], data) == Errno.OK;
        if (!whole) {
            fm.countReadError();
            for (long at = 0; at < io.lengthBytes; at += 512) {
                boolean read = false;
                for (int c : inSync) {
                    Member m = slots[io.devices[c]];
                    if (SyncIo.read(scheduler, m.device(), m.dataOffsetBytes() + io.memberOffsets[c] + at, data.asSlice(at, 512))
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
        for (int c : inSync) {
            if (c == first && whole) {
                continue; // it holds what was read
            }
            Member m = slots[io.devices[c]];
            if (SyncIo.write(scheduler, m.device(), m.dataOffsetBytes() + io.memberOffsets[c], data, 0) != Errno.OK) {
                m.countWriteError();
                array.memberError(m);
            }
        }
        return Errno.OK;
    }

    private void fix(Fix f) {
        MappedIo io = f.io();
        Member good = slots[io.devices[io.current]];
        if (good == null || !good.isInSync()) {
            return;
        }
        for (int c = 0; c < io.copies; c++) {
            Member bad = slots[io.devices[c]];
            if ((f.failedCopies() & (1L << c)) == 0 || bad == null || bad == good || !bad.isInSync()) {
                continue;
            }
            rewrite.fix(good, good.dataOffsetBytes() + io.memberOffsets[io.current], bad,
                bad.dataOffsetBytes() + io.memberOffsets[c], io.lengthBytes);
        }
    }
}
